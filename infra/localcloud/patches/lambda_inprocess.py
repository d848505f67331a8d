"""Patch: run Lambda handlers in-process.

Moto gap closed: stock moto either needs Docker to run a function or (``lambda_simple``) returns a
canned answer. Overriding ``LambdaFunction._invoke_lambda`` -- the one hook behind direct invokes,
Step Functions tasks, SQS/SNS/DynamoDB-stream mappings and EventBridge targets -- makes every one of
those paths import the handler from the function's CodeUri + Handler and call it with a real
context object and the function's own environment (see :mod:`infra.localcloud.envoverlay`).

Asynchronous invokes (``InvocationType=Event``) are queued on the delivery pool instead of
running inside the caller's request, as on AWS.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.localcloud import envoverlay, faults, usage
from infra.localcloud.pumps import deliveries
from infra.localcloud.template import package_prefix_from_key

log = logging.getLogger("infra.localcloud.lambda")

_applied = False
_lock = threading.Lock()


@dataclass(frozen=True)
class FunctionRuntime:
    """What the local cloud knows about a deployed function beyond moto's record of it."""

    package_prefix: str
    endpoint_url: str | None = None
    s3_endpoint_url: str | None = None  # an S3 endpoint browsers can reach (presigned URLs point there)


_runtimes: dict[str, FunctionRuntime] = {}
_handlers: dict[tuple[str, str], Callable[..., Any]] = {}


def register_function(function_arn: str, runtime: FunctionRuntime) -> None:
    _runtimes[function_arn] = runtime


def unregister_function(function_arn: str) -> None:
    _runtimes.pop(function_arn, None)


class LambdaContext:
    """The context object the Python runtime passes to a handler."""

    def __init__(self, fn: Any, request_id: str) -> None:
        self.function_name: str = fn.function_name
        self.function_version: str = str(fn.version)
        self.invoked_function_arn: str = fn.function_arn
        self.memory_limit_in_mb: int = int(fn.memory_size)
        self.aws_request_id: str = request_id
        self.log_group_name: str = f"/aws/lambda/{fn.function_name}"
        stamp = time.strftime("%Y/%m/%d", time.gmtime())
        self.log_stream_name: str = f"{stamp}/[{self.function_version}]{uuid.uuid4().hex}"
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline = time.monotonic() + float(fn.timeout)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def resolve_handler(package_prefix: str, handler: str) -> Callable[..., Any]:
    """``("functions", "api.app.app")`` -> ``functions.api.app`` attribute ``app`` (cached)."""
    key = (package_prefix, handler)
    found = _handlers.get(key)
    if found is None:
        module_part, _, attr = handler.rpartition(".")
        if not module_part:
            raise ImportError(f"Bad handler {handler!r}: expected module.attribute")
        module_name = f"{package_prefix}.{module_part}" if package_prefix else module_part
        found = getattr(importlib.import_module(module_name), attr)
        _handlers[key] = found
    return found


def _runtime_for(fn: Any) -> FunctionRuntime:
    runtime = _runtimes.get(fn.function_arn)
    if runtime is not None:
        return runtime
    prefix = package_prefix_from_key(str((fn.code or {}).get("S3Key", "")))
    if prefix is None:
        raise ImportError(f"{fn.function_name} was not deployed by the local cloud: no code location")
    return FunctionRuntime(package_prefix=prefix)


def function_environment(fn: Any, runtime: FunctionRuntime, request_id: str) -> dict[str, str]:
    """The variables a function sees: the Lambda runtime's, then the template's Environment."""
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "_HANDLER": fn.handler or "",
        "_X_AMZN_REQUEST_ID": request_id,
        # Role credentials are dummies: nothing local checks them.
        "AWS_ACCESS_KEY_ID": "localcloud",
        "AWS_SECRET_ACCESS_KEY": "localcloud",
        "AWS_SESSION_TOKEN": "localcloud",
        # No X-Ray daemon locally.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    if runtime.endpoint_url:
        env["AWS_ENDPOINT_URL"] = runtime.endpoint_url
    if runtime.s3_endpoint_url:
        env["AWS_ENDPOINT_URL_S3"] = runtime.s3_endpoint_url
    env.update({k: str(v) for k, v in (fn.environment_vars or {}).items()})
    return env


def _error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames[1:]),  # drop this module's frame, like the runtime
    }


def invoke_in_process(fn: Any, event: Any) -> tuple[str, bool, str]:
    """Call the handler; return (payload JSON, errored, logs) as ``_invoke_lambda`` must."""
    if isinstance(event, str):
        with contextlib.suppress(ValueError):
            event = json.loads(event)
    request_id = str(uuid.uuid4())
    started = time.monotonic()
    try:
        runtime = _runtime_for(fn)
        fault = faults.injector.lambda_fault(fn.function_name, event)
        if fault is not None and not fault.timeout:
            raise type(fault.error, (faults.InjectedFault,), {})(fault.message)
        with envoverlay.overlay(function_environment(fn, runtime, request_id)):
            handler = resolve_handler(runtime.package_prefix, fn.handler)
            result = handler(event, LambdaContext(fn, request_id))
            payload = json.dumps(result, default=str)
        if fault is not None:  # timed out: the work is done, the answer is lost
            raise type(fault.error, (faults.InjectedFault,), {})(
                f"{fn.function_name} Task timed out after {float(fn.timeout):.2f} seconds")
    except Exception as exc:  # any handler error becomes a FunctionError, as on AWS
        log.warning("%s failed: %s: %s", fn.function_name, type(exc).__name__, exc)
        return json.dumps(_error_payload(exc, request_id)), True, ""
    elapsed = time.monotonic() - started
    usage.record_invocation(fn.function_name, elapsed, int(fn.memory_size or 128))
    if elapsed > float(fn.timeout):
        # Cannot kill a thread: say so loudly instead of pretending the timeout was enforced.
        log.warning("%s ran %.2fs, over its %ss Timeout", fn.function_name, elapsed, fn.timeout)
    return payload, False, ""


ASYNC_ATTEMPTS = 3  # Lambda's default for asynchronous invokes: the first try and two retries


def _invoke_async(invoke: Any, backend: Any, fn: Any, qualifier: str | None, body: Any) -> None:
    """An ``Event`` invoke as Lambda runs it: retried twice on a function error, then sent to the function's
    dead-letter queue (``DeadLetterConfig``) with the request id and error, as Lambda does."""
    error = ""
    for _ in range(ASYNC_ATTEMPTS):
        response_headers: dict[str, str] = {}
        payload = invoke(backend, fn.function_name, qualifier, body, {}, response_headers)
        if "x-amz-function-error" not in response_headers:
            return
        error = payload.decode() if isinstance(payload, bytes) else str(payload)
    target = getattr(fn, "localcloud_dead_letter_arn", None)
    if not target:
        log.warning("%s: asynchronous event dropped after %d attempts (no DeadLetterConfig)", fn.function_name,
                    ASYNC_ATTEMPTS)
        return
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, queue_name = target.split(":", 5)
    details = json.loads(error) if error.startswith("{") else {"errorMessage": error}
    event = body.decode() if isinstance(body, bytes) else body if isinstance(body, str) else json.dumps(body)
    sqs_backends[account][region].send_message(
        queue_name, event,
        message_attributes={
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": str(details.get("errorMessage", ""))[:1000]},
            "RequestID": {"DataType": "String", "StringValue": str(details.get("requestId", ""))}})


def apply() -> None:
    """Install the in-process invoke hook, asynchronous ``Event`` invokes and string-valued
    environments for CloudFormation-created functions (idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.awslambda.models import LambdaBackend, LambdaFunction

        def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
            return invoke_in_process(self, {} if event is None else event)

        original_backend_invoke = LambdaBackend.invoke

        def backend_invoke(
            self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
        ) -> Any:
            if (headers or {}).get("x-amz-invocation-type") == "Event":
                fn = self.get_function(function_name, qualifier)  # raises for an unknown function
                deliveries.submit(fn.function_arn, _invoke_async, original_backend_invoke, self, fn, qualifier, body)
                response_headers["Content-Length"] = "0"
                return b""
            return original_backend_invoke(self, function_name, qualifier, body, headers, response_headers)

        original_cfn_create = LambdaFunction.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

        def create_from_cloudformation_json(
            cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any,
        ) -> Any:
            # CloudFormation hands Lambda string values; moto passes resolved Number parameters on
            # as ints, so GetFunctionConfiguration would show 2 where AWS shows "2".
            variables = ((cloudformation_json.get("Properties") or {}).get("Environment") or {}).get("Variables")
            if variables:
                for name, value in variables.items():
                    variables[name] = str(value).lower() if isinstance(value, bool) else str(value)
            created = original_cfn_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
            # moto keeps no DeadLetterConfig: remember it for the asynchronous invokes that use it.
            dead_letter = ((cloudformation_json.get("Properties") or {}).get("DeadLetterConfig") or {})
            created.localcloud_dead_letter_arn = dead_letter.get("TargetArn")
            return created

        LambdaFunction.create_from_cloudformation_json = classmethod(  # type: ignore[method-assign,assignment]
            create_from_cloudformation_json
        )
        LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
        LambdaBackend.invoke = backend_invoke  # type: ignore[method-assign]
        _applied = True
