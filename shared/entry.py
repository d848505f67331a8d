"""The one decorator on every Lambda entry point: settings checked at cold start, then per invocation the
Powertools stack (logger context with the function's service name, tracing, metrics flush)."""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Callable
from typing import Any

from shared.adapters.aws import error_code
from shared.config import require
from shared.observability import logger, metrics, tracer

Handler = Callable[[Any, Any], Any]

# AWS answers that mean "not now" (throttled, briefly unavailable): the SDK retries them a few times; still
# failing after that, the invocation fails as a TransientError.
TRANSIENT_AWS_ERRORS = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling", "ThrottledException",
    "RequestLimitExceeded", "TooManyRequestsException", "LimitExceededException", "TransactionConflictException",
    "InternalServerError", "InternalFailure", "InternalError", "ServiceUnavailable", "ServiceUnavailableException",
    "RequestTimeout", "RequestTimeoutException",
})


class TransientError(Exception):
    """An AWS call still throttled or unavailable after the SDK's retries. The state machine retries a step that
    fails with it (its ``Retry`` names this class: ASL matches the error's type name) instead of escalating the
    work order as an automation error; every step is idempotent."""

# Every function reads and writes the work-order table and publishes lifecycle events.
CORE_SETTINGS = ("table_name", "event_bus_name")


def lambda_entry(*, requires: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler. `requires` names the settings (``shared.config.Settings`` fields) the function
    cannot work without, besides the table and the bus: a missing or empty one raises
    ``MissingSetting`` naming its env var when the module is imported (the cold start), not an empty
    string much later. The wrapper keeps them as ``required_settings`` (tests compare them with the template)."""
    required = (*CORE_SETTINGS, *requires)
    require(*required)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def named(event: Any, context: Any) -> Any:
            # The service is this function's (POWERTOOLS_SERVICE_NAME in its template Environment), read per
            # invocation: the logger is built once per process, and the local cloud runs every function in one.
            logger.thread_safe_append_keys(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or logger.service,
                                           function_name=getattr(context, "function_name", None),
                                           function_arn=getattr(context, "invoked_function_arn", None),
                                           function_memory_size=getattr(context, "memory_limit_in_mb", None),
                                           function_request_id=getattr(context, "aws_request_id", None))
            return handler(event, context)

        stacked = logger.inject_lambda_context(clear_state=True)(tracer.capture_lambda_handler(
            metrics.log_metrics(named)))

        @functools.wraps(handler)
        def invoke(event: Any, context: Any) -> Any:
            # Keys bound during the invocation (service, ids: see observability.bind) live in its own context:
            # concurrent or nested invocations in one process never see each other's.
            try:
                return contextvars.copy_context().run(stacked, event, context)
            except Exception as exc:
                code = error_code(exc)
                if code in TRANSIENT_AWS_ERRORS:
                    raise TransientError(f"{code} after the SDK's retries") from exc
                raise

        invoke.required_settings = required  # type: ignore[attr-defined]
        return invoke

    return decorate
