"""``LocalCloud``: the real SAM template deployed into an embedded moto.

samtranslator -> CloudFormation -> moto ``create_stack``; Lambda handlers run in-process, Step
Functions executes the real ASL, SQS/EventBridge deliveries run in background pumps, and the
template's ``Api`` events are served by a small local HTTP server. No Docker, no AWS account.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import threading
import time
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from infra.localcloud import cfn, envoverlay, faults, outbox, template
from infra.localcloud.api import (
    ApiResponse,
    ApiRouter,
    BoundRoute,
    ExtraRoute,
    LocalApiServer,
    make_request,
)
from infra.localcloud.patches import apply_all, lambda_inprocess, scheduler_clock, sqs_poller, stepfunctions
from infra.localcloud.pumps import Pump, deliveries, pump_factories, register_pump
from infra.localcloud.verify import verify_stack

log = logging.getLogger("infra.localcloud")

ACCOUNT_ID = "123456789012"
"""moto's default account."""
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "localcloud", "AWS_SECRET_ACCESS_KEY": "localcloud"}
SFN_CONFIG: dict[str, Any] = {"stepfunctions": {"execute_state_machine": True}}

register_pump("sqs", sqs_poller.make_pump)
register_pump("scheduler", scheduler_clock.make_pump)


class _SharedPumps:
    """Pumps are per account/region (like moto's backends): clouds sharing one share the pumps."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pumps: dict[tuple[str, str, str], tuple[Pump, int]] = {}

    def acquire(self, cloud: LocalCloud) -> list[tuple[str, str, str]]:
        keys = []
        with self._lock:
            for name, factory in pump_factories().items():
                key = (name, cloud.account_id, cloud.region)
                if key in self._pumps:
                    pump, count = self._pumps[key]
                    self._pumps[key] = (pump, count + 1)
                else:
                    made = factory(cloud)
                    if made is None:
                        continue
                    made.start()
                    self._pumps[key] = (made, 1)
                keys.append(key)
        return keys

    def release(self, keys: list[tuple[str, str, str]]) -> None:
        stopping = []
        with self._lock:
            for key in keys:
                pump, count = self._pumps[key]
                if count == 1:
                    del self._pumps[key]
                    stopping.append(pump)
                else:
                    self._pumps[key] = (pump, count - 1)
        for pump in stopping:
            pump.stop()

    def busy(self, keys: list[tuple[str, str, str]], owners: set[str]) -> list[str]:
        with self._lock:
            pumps = [self._pumps[key][0] for key in keys if key in self._pumps]
        return [pump.name for pump in pumps if pump.busy(owners)]


_shared_pumps = _SharedPumps()


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "LOCALCLOUD.txt",
            "Placeholder bundle: the local cloud imports handlers from the working tree.\n",
        )
    return buffer.getvalue()


class LocalCloud:
    """One SAM template deployed as one stack into moto (in-process, or a local moto server)."""

    def __init__(
        self,
        template: str | Path = "template.yaml",
        parameters: Mapping[str, Any] | None = None,
        region: str = "us-east-1",
        server_port: int | None = None,
        *,
        code_root: str | Path | None = None,
        stack_name: str | None = None,
        frozen_clock: datetime | bool = False,
    ) -> None:
        """``frozen_clock``: start the Scheduler clock frozen (``True``: at the current time, or at
        the given datetime), so schedules fire only through :meth:`advance_clock` and
        :meth:`fire_schedule`. The clock is per account/region, shared with other clouds there."""
        self.template_path = Path(template).resolve()
        self.parameters = {k: str(v) for k, v in (parameters or {}).items()}
        self.region = region
        self.server_port = server_port
        self.account_id = ACCOUNT_ID
        self.code_root = Path(code_root).resolve() if code_root else self.template_path.parent
        stage = self.parameters.get("Stage", "local")
        self.stack_name = stack_name or f"{self.template_path.stem.replace('_', '-')}-{stage}"
        self.resources: dict[str, str] = {}
        self.outputs: dict[str, str] = {}
        self.translated: dict[str, Any] = {}
        self.endpoint_url: str | None = None
        self._mock: Any = None
        self._config_patch: Any = None
        self._server: Any = None
        self._pump_keys: list[tuple[str, str, str]] = []
        self._router: ApiRouter | None = None
        self._api_servers: list[LocalApiServer] = []
        self._function_arns: list[str] = []
        self._owned_arns: set[str] = set()
        self._started = False
        self._stack_created = False
        self._frozen_clock = frozen_clock
        self.frozen_clock_at: datetime | None = None
        self.s3_endpoint_url: str | None = None
        self._s3_server: Any = None

    # ------------------------------------------------------------------------ lifecycle
    def start(self) -> LocalCloud:
        """Start moto, apply the patches, deploy the template and verify every resource."""
        if self._started:
            return self
        started = time.perf_counter()
        os.environ.setdefault("AWS_DEFAULT_REGION", self.region)
        for key, value in DUMMY_CREDENTIALS.items():
            os.environ.setdefault(key, value)
        envoverlay.install()
        apply_all()
        if isinstance(self._frozen_clock, datetime):
            at = self._frozen_clock
            self.frozen_clock_at = at if at.tzinfo else at.replace(tzinfo=UTC)
        elif self._frozen_clock:
            self.frozen_clock_at = datetime.now(UTC)
        self._start_moto()
        self._started = True
        try:
            self._deploy()
            self._pump_keys = _shared_pumps.acquire(self)
            if self.frozen_clock_at is not None and not self.clock.frozen:
                self.clock.freeze(self.frozen_clock_at)
        except BaseException:
            self.stop()
            raise
        log.info("local cloud %s up in %.2fs", self.stack_name, time.perf_counter() - started)
        return self

    def _start_moto(self) -> None:
        if self.server_port is None:
            from moto import mock_aws

            self._mock = mock_aws(config=SFN_CONFIG)  # type: ignore[arg-type]
            self._mock.start()
            return
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        self._config_patch = mock.patch.dict(default_user_config, SFN_CONFIG)
        self._config_patch.start()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.server_port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        # The Step Functions interpreter's own clients go to localhost:MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        # boto3's default session captured the environment mapping when it was made; make the
        # next one read the per-invoke overlay (AWS_ENDPOINT_URL) instead.
        import boto3

        boto3.DEFAULT_SESSION = None

    def stop(self) -> None:
        """Stop pumps and servers, delete the stack, stop moto."""
        if not self._started:
            return
        self._started = False
        for server in self._api_servers:
            server.shutdown()
        self._api_servers.clear()
        if self._pump_keys:
            _shared_pumps.release(self._pump_keys)
            self._pump_keys = []
        # Let this stack's queued asynchronous deliveries (a schedule's Lambda invoke, a rule's
        # action) finish while moto is still up, instead of reaching for real AWS afterwards.
        deadline = time.monotonic() + 5.0
        while deliveries.busy(self._owned_arns) and time.monotonic() < deadline:
            time.sleep(0.01)
        for arn in self._function_arns:
            lambda_inprocess.unregister_function(arn)
        self._function_arns.clear()
        try:
            if self._stack_created:
                self._stack_created = False
                self.client("cloudformation").delete_stack(StackName=self.stack_name)
        except Exception as exc:  # tearing down; moto is reset below anyway
            log.debug("delete_stack failed: %s", exc)
        if self._s3_server is not None:
            self._s3_server.stop()
            self._s3_server = None
            self.s3_endpoint_url = None
        if self._server is not None:
            self._server.stop()
            self._server = None
            os.environ.pop("MOTO_PORT", None)
        if self._config_patch is not None:
            self._config_patch.stop()
            self._config_patch = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self.resources = {}

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------ deploy
    def _deploy(self) -> None:
        prepared = template.prepare(self.template_path, self.code_root)
        with envoverlay.overlay({"AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region}):
            self.translated = template.translate(prepared.sam, self.parameters)
        if str(self.code_root) not in sys.path:
            sys.path.insert(0, str(self.code_root))

        s3 = self.client("s3")
        try:
            if self.region == "us-east-1":
                s3.create_bucket(Bucket=template.CODE_BUCKET)
            else:
                s3.create_bucket(
                    Bucket=template.CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": self.region}
                )
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass  # bucket names are global: a cloud in another region of this moto made it already
        bundle = _placeholder_zip()
        for key in set(prepared.code_keys.values()):
            s3.put_object(Bucket=template.CODE_BUCKET, Key=key, Body=bundle)

        cloudformation = self.client("cloudformation")
        cfn.take_unsupported()
        try:
            cloudformation.create_stack(
                StackName=self.stack_name,
                TemplateBody=json.dumps(self.translated),
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()],
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            )
        except Exception as exc:
            reasons = cfn.take_unsupported()
            if reasons and not isinstance(exc, cfn.UnsupportedLocally):
                raise cfn.UnsupportedLocally("; ".join(reasons)) from exc
            raise
        self._stack_created = True
        from moto.cloudformation.models import cloudformation_backends

        backend = cloudformation_backends[self.account_id][self.region]
        stack = next(s for s in backend.stacks.values() if s.name == self.stack_name)
        self.resources = verify_stack(stack, self.translated, self.account_id, self.region)
        described = cloudformation.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}

        self._register_functions()
        self._router = self._build_router(prepared.routes)

    def _register_functions(self) -> None:
        from moto.awslambda.utils import get_backend

        backend = get_backend(self.account_id, self.region)
        for logical_id, spec in self.translated["Resources"].items():
            if spec["Type"] != "AWS::Lambda::Function" or logical_id not in self.resources:
                continue
            fn = backend.get_function(self.resources[logical_id])
            prefix = template.package_prefix_from_key(str(fn.code.get("S3Key", "")))
            if prefix is None:
                continue
            lambda_inprocess.register_function(
                fn.function_arn, lambda_inprocess.FunctionRuntime(prefix, self.endpoint_url, self.s3_endpoint_url)
            )
            if fn.function_arn not in self._function_arns:  # called again by serve_s3
                self._function_arns.append(fn.function_arn)
        from moto.iot.models import iot_backends

        rules = iot_backends[self.account_id][self.region].rules
        self._owned_arns = set(self._function_arns) | {
            self.resources[logical_id]
            for logical_id, spec in self.translated["Resources"].items()
            if spec["Type"] == "AWS::StepFunctions::StateMachine" and logical_id in self.resources
        } | {
            rules[self.resources[logical_id]].arn  # the rules engine's deliveries are owned by the rule
            for logical_id, spec in self.translated["Resources"].items()
            if spec["Type"] == "AWS::IoT::TopicRule" and logical_id in self.resources
        }

    def _build_router(self, routes: list[template.ApiRoute]) -> ApiRouter:
        stages: dict[str, str] = {}
        for logical_id, spec in self.translated["Resources"].items():
            if spec["Type"] == "AWS::ApiGateway::Stage" and logical_id in self.resources:
                api_ref = (spec.get("Properties") or {}).get("RestApiId")
                if isinstance(api_ref, dict) and "Ref" in api_ref:
                    stages[api_ref["Ref"]] = self.resources[logical_id]
        bound = []
        for route in routes:
            api_logical = route.rest_api or "ServerlessRestApi"
            bound.append(
                BoundRoute.build(
                    route,
                    function_name=self.resources[route.function_logical_id],
                    api_id=self.resources.get(api_logical, api_logical),
                    stage=stages.get(api_logical, "Prod"),
                )
            )
        return ApiRouter(bound, self._invoke_function, self.account_id)

    # ------------------------------------------------------------------------ access
    def physical(self, logical_id: str) -> str:
        return self.resources[logical_id]

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client bound to this cloud (the endpoint in server mode)."""
        import boto3

        options: dict[str, Any] = {
            "region_name": self.region,
            "aws_access_key_id": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }
        if self.endpoint_url:
            options["endpoint_url"] = self.endpoint_url
        options.update(kwargs)
        return boto3.client(service, **options)

    def _invoke_function(self, function_name: str, payload: bytes) -> tuple[bytes, bool]:
        from moto.awslambda.utils import get_backend

        response_headers: dict[str, Any] = {}
        result = get_backend(self.account_id, self.region).invoke(
            function_name, None, payload.decode("utf-8"), {}, response_headers
        )
        raw = result if isinstance(result, bytes) else str(result or "").encode("utf-8")
        return raw, "x-amz-function-error" in response_headers

    # ------------------------------------------------------------------------ API
    def invoke_api(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> ApiResponse:
        """Send one request through the template's API (path may carry ``?query``)."""
        if self._router is None:
            raise RuntimeError("start() the local cloud first")
        return self._router.handle(make_request(method, path, headers, body))

    def serve_api(
        self, host: str = "127.0.0.1", port: int = 8000,
        extra_routes: dict[tuple[str, str], ExtraRoute] | None = None,
    ) -> LocalApiServer:
        """Serve the API over HTTP (``port=0`` picks a free port); ``.url``, ``.shutdown()``."""
        if self._router is None:
            raise RuntimeError("start() the local cloud first")
        server = LocalApiServer(self._router, host, port, extra_routes)
        self._api_servers.append(server)
        return server

    # ------------------------------------------------------------------------ S3 for browsers
    def serve_s3(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """An S3 endpoint a browser can reach, for presigned POST uploads and GET links.

        A server-mode cloud has one already (its AWS endpoint). An in-process cloud starts a moto
        server on ``host:port`` (0 = a free port) over the *same* backends, and its functions get
        ``AWS_ENDPOINT_URL_S3`` so the URLs they presign point there. Idempotent; stopped with the cloud."""
        if not self._started:
            raise RuntimeError("start() the local cloud first")
        if self.endpoint_url is not None:
            return self.endpoint_url
        if self._s3_server is None:
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            self._s3_server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
            self._s3_server.start()
            bound_host, bound_port = self._s3_server.get_host_and_port()
            self.s3_endpoint_url = f"http://{bound_host}:{bound_port}"
            self._register_functions()
        assert self.s3_endpoint_url is not None
        return self.s3_endpoint_url

    # ------------------------------------------------------------------------ inbound email (SES)
    def receive_email(self, raw: bytes, recipients: list[str] | None = None, verdict: str = "PASS") -> str:
        """Deliver one raw MIME message as SES email receiving would: the stack's receipt rules
        (from the template) are matched on the recipients and their actions performed in order -
        ``S3Action`` writes the raw message, ``LambdaAction`` invokes the function with the SES
        event (asynchronously for ``InvocationType: Event``), ``StopAction`` ends the rule set.
        moto stores receipt rules but never runs them. ``verdict`` is what the spam, virus, SPF,
        DKIM and DMARC checks report (SES runs them; nothing does locally). Returns the message id."""
        import email
        import email.policy
        import secrets
        from email.utils import getaddresses

        from moto.ses.models import ses_backends

        message = email.message_from_bytes(raw, policy=email.policy.default)
        if recipients is None:
            recipients = [a for _, a in getaddresses([str(v) for v in (message.get_all("To") or [])]) if a]
        message_id = secrets.token_hex(20)
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        backend = ses_backends[self.account_id][self.region]
        rule_sets = [self.resources[logical_id] for logical_id, spec in self.translated["Resources"].items()
                     if spec["Type"] == "AWS::SES::ReceiptRuleSet" and logical_id in self.resources]
        for rule_set in rule_sets:
            for rule in backend.describe_receipt_rule_set(rule_set).rules:
                matched = [r for r in recipients if _recipient_matches(r, rule.get("Recipients") or [])]
                if not rule.get("Enabled") or not matched:
                    continue
                for action in rule.get("Actions", []):
                    if "StopAction" in action:
                        return message_id
                    if "S3Action" in action:
                        s3_action = action["S3Action"]
                        self.client("s3").put_object(Bucket=s3_action["BucketName"], Body=raw,
                                                     Key=f"{s3_action.get('ObjectKeyPrefix', '')}{message_id}")
                    if "LambdaAction" in action:
                        lambda_action = action["LambdaAction"]
                        event = _ses_event(message, message_id, matched, now, verdict, lambda_action)
                        self.client("lambda").invoke(
                            FunctionName=lambda_action["FunctionArn"], Payload=json.dumps(event).encode(),
                            InvocationType=lambda_action.get("InvocationType", "Event"))
        return message_id


    # ------------------------------------------------------------------------ Scheduler clock
    @property
    def clock(self) -> scheduler_clock.LocalClock:
        """The Scheduler clock of this cloud's account/region."""
        if not self._started:
            raise RuntimeError("start() the local cloud first")
        clock = scheduler_clock.clock_for(self.account_id, self.region)
        assert clock is not None
        return clock

    def clock_now(self) -> datetime:
        return self.clock.now()

    def freeze_clock(self, at: datetime | None = None) -> None:
        """Stop real-time firing; from now on only :meth:`advance_clock` moves time."""
        self.clock.freeze(at)

    def unfreeze_clock(self) -> None:
        self.clock.unfreeze()

    def advance_clock(self, seconds: float) -> list[scheduler_clock.Firing]:
        """Move the clock forward: fire every schedule that became due, in order, and end every
        Step Functions ``Wait`` state and task timeout/heartbeat that became due (a timed-out task
        fails with ``States.Timeout``). Returns the firings once the ended waits have returned;
        what they lead to is still running (wait on its result, or :meth:`wait_idle`)."""
        return self.clock.advance(seconds)

    def _schedule_name(self, logical_id_or_name: str) -> str:
        spec = (self.translated.get("Resources") or {}).get(logical_id_or_name)
        if spec is not None and spec.get("Type") == "AWS::Scheduler::Schedule":
            return self.resources[logical_id_or_name]
        return logical_id_or_name

    def fire_schedule(
        self, logical_id_or_name: str, scheduled_time: datetime | None = None, group: str | None = None
    ) -> scheduler_clock.Firing:
        """Fire one schedule now, as the clock would (``scheduled_time`` defaults to the clock's
        now). Firing twice with the same ``scheduled_time`` delivers twice, on purpose."""
        return self.clock.fire(self._schedule_name(logical_id_or_name), scheduled_time, group)

    def next_fire_time(self, logical_id_or_name: str) -> datetime | None:
        """When the schedule fires next on the local clock (None: never again)."""
        return self.clock.next_due(self._schedule_name(logical_id_or_name))

    # ------------------------------------------------------------------------ faults
    @property
    def faults(self) -> faults.FaultInjector:
        """Arm AWS-call, Lambda and redelivery faults (:mod:`infra.localcloud.faults`)."""
        return faults.injector

    # ------------------------------------------------------------------------ observing
    def outbox(self) -> list[dict[str, Any]]:
        """Every SMS and email sent, newest first."""
        return outbox.read_outbox(self.account_id, self.region)

    def busy_reasons(self) -> list[str]:
        """What of *this* stack is still moving: pump names, ``deliveries``, ``executions``.

        Empty when idle. Scoped to the stack's functions and state machines, so another stack
        in the same moto (a test's tiny template) does not keep this one busy."""
        owners = self._owned_arns
        reasons = _shared_pumps.busy(self._pump_keys, owners)
        if deliveries.busy(owners):
            reasons.append("deliveries")
        if stepfunctions.busy_executions(self.account_id, self.region, owners):
            reasons.append("executions")
        return reasons

    def wait_idle(self, timeout: float = 10.0, settle: int = 3) -> bool:
        """Wait until no message is pending/in flight on a mapped queue, no delivery is running
        and no execution is in a running step (a task-token wait counts as idle).

        Idle must be seen ``settle`` times in a row (10 ms apart) to cover hand-offs between
        threads. Returns False on timeout.
        """
        deadline = time.monotonic() + timeout
        quiet = 0
        reasons: list[str] = []
        while time.monotonic() < deadline:
            reasons = self.busy_reasons()
            if reasons:
                quiet = 0
            else:
                quiet += 1
                if quiet >= settle:
                    return True
            time.sleep(0.01)
        log.warning("local cloud still busy after %.0f s: %s%s", timeout, ", ".join(reasons), self._queued())
        return False

    def _queued(self) -> str:
        """The queues holding messages (visible, in flight or delayed), for the busy warning."""
        from moto.sqs.models import sqs_backends

        queues = sqs_backends[self.account_id][self.region].queues
        held = {name: len(q._messages) for name, q in list(queues.items()) if q._messages}
        return f" (messages in {held})" if held else ""


def _recipient_matches(address: str, patterns: list[str]) -> bool:
    """SES recipient matching: an address, a domain, or ``.domain`` for its subdomains (none = all)."""
    if not patterns:
        return True
    address = address.lower()
    domain = address.rpartition("@")[2]
    for pattern in (p.lower() for p in patterns):
        if address == pattern or domain == pattern or (pattern.startswith(".") and domain.endswith(pattern)):
            return True
    return False


def _ses_event(message: Any, message_id: str, recipients: list[str], now: str, verdict: str,
               action: dict[str, Any]) -> dict[str, Any]:
    """The event SES passes to a receipt rule's Lambda action (the message itself is not in it)."""
    from email.utils import getaddresses

    def addresses(name: str) -> list[str]:
        return [str(v) for v in (message.get_all(name) or [])]

    status = {"status": verdict}
    return {"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
        "mail": {
            "timestamp": now, "source": next((a for _, a in getaddresses(addresses("From")) if a), ""),
            "messageId": message_id, "destination": recipients, "headersTruncated": False,
            "headers": [{"name": k, "value": str(v)} for k, v in message.items()],
            "commonHeaders": {"returnPath": str(message.get("Return-Path") or ""), "from": addresses("From"),
                              "to": addresses("To"), "messageId": str(message.get("Message-ID") or ""),
                              "subject": str(message.get("Subject") or ""), "date": str(message.get("Date") or "")},
        },
        "receipt": {
            "timestamp": now, "processingTimeMillis": 1, "recipients": recipients,
            "spamVerdict": status, "virusVerdict": status, "spfVerdict": status, "dkimVerdict": status,
            "dmarcVerdict": status,
            "action": {"type": "Lambda", "functionArn": action["FunctionArn"],
                       "invocationType": action.get("InvocationType", "Event")},
        },
    }}]}


def env_for(cloud: LocalCloud) -> dict[str, str]:
    """Environment for another process (the AWS CLI, a script) to use a server-mode cloud."""
    if cloud.endpoint_url is None:
        raise ValueError("env_for needs a server-mode cloud (LocalCloud(server_port=...))")
    return {
        "AWS_ENDPOINT_URL": cloud.endpoint_url,
        "AWS_DEFAULT_REGION": cloud.region,
        "AWS_REGION": cloud.region,
        **DUMMY_CREDENTIALS,
    }
