"""The Opslayer stack on the local cloud, with a fake Buildium as its PMS: deploy the template, load
the demo portfolio through the real PMS sync path, serve the API with the local-only routes.
Used by `make local`, the drill, the benchmarks and the tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import demo
from infra.fake_buildium import FakeBuildium
from infra.localcloud import LocalCloud
from shared.adapters.repository import Repository

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"


LOCAL_OPS_ALERT_EMAIL = "ops-alerts@opslayer.example.com"  # subscribed to the alerts topic (nothing is sent)


def local_parameters(base_url: str, fake: FakeBuildium, **overrides: str) -> dict[str, str]:
    return {"Stage": "local", "OpsAuthMode": "key", "PublicBaseUrl": base_url,
            "SenderEmail": "maintenance@opslayer.example.com", "BuildiumBaseUrl": fake.url,
            "BuildiumAccountId": str(fake.account_id), "OpsAlertEmails": LOCAL_OPS_ALERT_EMAIL, **overrides}


@dataclass
class Stack:
    cloud: LocalCloud
    base_url: str
    fake: FakeBuildium
    served_url: str | None = None  # set once the API listens on HTTP: webhooks are then delivered over HTTP
    ids: demo.Ids = field(init=False)
    _unit_keys: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.ids = demo.Ids(self.fake.ids)

    @property
    def repo(self) -> Repository:
        return Repository(self.cloud.physical("Table"), client=self.cloud.client("dynamodb"))

    def secret(self, logical_id: str) -> str:
        return self.cloud.client("secretsmanager").get_secret_value(
            SecretId=self.cloud.physical(logical_id))["SecretString"]

    def ops_key(self) -> str:
        return self.secret("OpsApiKeySecret")

    def link_tokens(self) -> Any:
        """The real link service on this stack's table and key (what ops tooling and tests mint with)."""
        from shared.services.link_tokens import LinkTokens

        return LinkTokens(self.repo, self.secret("LinkSigningSecret").encode())

    def unit_link_ttl(self) -> int:
        env = self.cloud.client("lambda").get_function_configuration(
            FunctionName=self.cloud.physical("ApiFunction"))["Environment"]["Variables"]
        return int(env["UNIT_LINK_TTL_SECONDS"])

    def connect_pms(self) -> None:
        """What an operator does after `sam deploy`: store the Buildium API key and webhook secret."""
        sm = self.cloud.client("secretsmanager")
        sm.put_secret_value(SecretId=self.cloud.physical("BuildiumApiSecret"), SecretString=json.dumps(
            {"client_id": self.fake.client_id, "client_secret": self.fake.client_secret}))
        sm.put_secret_value(SecretId=self.cloud.physical("BuildiumWebhookSecret"),
                            SecretString=self.fake.webhook_secret)
        from shared.services.container import reset

        reset()  # functions that ran before (a schedule, a webhook) cached the placeholder secrets

    def invoke(self, logical_id: str, payload: dict[str, Any]) -> Any:
        resp = self.cloud.client("lambda").invoke(FunctionName=self.cloud.physical(logical_id),
                                                  Payload=json.dumps(payload).encode())
        body = json.loads(resp["Payload"].read() or b"null")
        if "FunctionError" in resp:
            raise RuntimeError(f"{logical_id} failed: {body}")
        return body

    def pms_sync(self) -> dict[str, int]:
        """The initial import / reconciliation, run by the real PmsSync function."""
        return self.invoke("PmsSyncFunction", {"action": "reconcile"})["reconciled"]

    def seed(self) -> dict[str, int]:
        from datetime import UTC, datetime

        from shared.services.preventive import Asset

        self.connect_pms()
        counts = self.pms_sync()
        repo = self.repo
        demo.apply_dispatch_profile(repo, self.ids)
        # The local stack runs scenarios at any hour: quiet hours are off here (a test turns them on).
        repo.put_config("quiet_hours", {"enabled": False})
        for sensor_id, unit_id, location in demo.sensors(self.ids):
            repo.put_record(f"SENSOR#{sensor_id}", "META", {"unit_id": unit_id, "location": location})
        for asset in demo.assets(self.ids, datetime.now(UTC).date()):
            repo.put_listed("ASSETS", asset["id"], Asset.model_validate(asset).model_dump(mode="json"))
        return counts

    def demo_body(self) -> dict[str, Any]:
        base = (self.served_url or self.base_url).rstrip("/")
        body = demo.describe(self.ids, {
            "ops_key": self.ops_key(), "aws_endpoint": self.cloud.endpoint_url, "api_url": self.base_url,
            "region": REGION, "buildium_url": self.fake.url, "buildium_account_id": self.fake.account_id,
            "buildium_webhook_secret": self.fake.webhook_secret,
            "twilio_auth_token": self.secret("TwilioAuthTokenSecret"),
            "sms_webhook_url": f"{self.base_url.rstrip('/')}/channels/sms",
            "sms_topic_arn": self.cloud.physical("InboundSmsTopic"),
            "sensors": [{"sensor_id": s, "unit_id": u, "location": loc} for s, u, loc in demo.sensors(self.ids)],
        })
        missing = [u["id"] for u in body["units"] if u["id"] not in self._unit_keys]
        if missing:  # each unit's request form link (what its lobby QR code carries), minted once
            tokens, ttl = self.link_tokens(), self.unit_link_ttl()
            self._unit_keys.update({u: tokens.issue(u, "unit", u, ttl) for u in missing})
        for unit in body["units"]:
            unit["request_url"] = f"{base}/units/{unit['id']}/request?key={self._unit_keys[unit['id']]}"
        return body

    def extra_routes(self) -> dict[tuple[str, str], Any]:
        def outbox(_request: Any) -> tuple[int, dict[str, str], bytes]:
            return _json({"messages": self.cloud.outbox()})

        def demo_route(_request: Any) -> tuple[int, dict[str, str], bytes]:
            return _json(self.demo_body())

        def pms_requests(_request: Any) -> tuple[int, dict[str, str], bytes]:
            return _json({"requests": self.fake.requests})

        def pms_emit(request: Any) -> tuple[int, dict[str, str], bytes]:
            return _json(self.emit(json.loads(request.body or b"{}")))

        def pms_sync(_request: Any) -> tuple[int, dict[str, str], bytes]:
            return _json({"reconciled": self.pms_sync()})

        def iot_publish(request: Any) -> tuple[int, dict[str, str], bytes]:
            """For an in-process cloud (no AWS endpoint to point boto3 at): publish through IoT Core here."""
            spec = json.loads(request.body or b"{}")
            self.cloud.client("iot-data").publish(topic=spec["topic"], qos=1,
                                                  payload=json.dumps(spec["payload"]).encode())
            return _json({"published": spec["topic"]})

        def email_in(request: Any) -> tuple[int, dict[str, str], bytes]:
            """A raw MIME message, received as SES would (the template's receipt rule actions run)."""
            if not request.body:
                return 400, {"Content-Type": "application/json"}, json.dumps(
                    {"error": "bad_request", "message": "POST a raw MIME message (message/rfc822)."}).encode()
            return _json({"message_id": self.receive_email(request.body)})

        return {("GET", "/_local/outbox"): outbox, ("GET", "/_local/demo"): demo_route,
                ("GET", "/_local/pms/requests"): pms_requests, ("POST", "/_local/pms/emit"): pms_emit,
                ("POST", "/_local/pms/sync"): pms_sync, ("POST", "/_local/iot/publish"): iot_publish,
                ("POST", "/_local/email"): email_in}

    def receive_email(self, raw: bytes) -> str:
        """Tenants write to the SenderEmail address (replies to our emails come back there too)."""
        return self.cloud.receive_email(raw)

    def emit(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Act in the fake Buildium as a property manager would, and deliver its signed webhooks to the API."""
        event_name = spec.get("event", "Task.Created")
        if event_name != "Task.Created":
            raise ValueError(f"only Task.Created can be emitted (got {event_name})")
        unit = spec.get("unit_id") or self.ids.unit("unit-maple-2b")
        buildium_unit = int(unit.removeprefix("unit-b")) if str(unit).startswith("unit-b") else unit
        title = spec.get("title") or "Leak under the bathroom sink"
        text = spec.get("text") or "Tenant called the office: water is dripping under the bathroom sink."
        task_id, events = self.fake.create_resident_request(buildium_unit, title, text)
        statuses = [self.deliver_webhook(e) for e in events]
        return {"task_id": task_id, "events": [e["EventName"] for e in events], "delivered": statuses}

    def deliver_webhook(self, event: dict[str, Any], timestamp: int | None = None) -> int:
        """Send a signed Buildium event to the API (over HTTP when it is served); returns the status."""
        if self.served_url:
            return self.fake.deliver(event, f"{self.served_url}/webhooks/buildium", timestamp=timestamp).status_code
        import time

        from infra.fake_buildium.server import compact_json

        stamp = str(timestamp or int(time.time()))
        body = compact_json(event)
        headers = {"Content-Type": "application/json", "buildium-webhook-timestamp": stamp,
                   "buildium-webhook-signature": self.fake.sign(stamp, body)}
        return self.cloud.invoke_api("POST", "/webhooks/buildium", headers=headers, body=body).status

    def serve(self, host: str, port: int) -> Any:
        self.cloud.serve_s3(host)  # browsers upload photos and view them through presigned S3 URLs
        server = self.cloud.serve_api(host=host, port=port, extra_routes=self.extra_routes())
        self.served_url = f"http://{host}:{port}"
        return server


def _json(body: Any) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(body, default=str).encode()


def start(base_url: str, server_port: int | None = None, **parameters: str) -> Stack:
    fake = FakeBuildium.from_demo().start()
    cloud = LocalCloud(template=str(TEMPLATE), parameters=local_parameters(base_url, fake, **parameters),
                       server_port=server_port, region=REGION)
    cloud.start()
    stack = Stack(cloud=cloud, base_url=base_url, fake=fake)
    stack.seed()
    return stack


def stop(stack: Stack) -> None:
    stack.cloud.stop()
    stack.fake.stop()
