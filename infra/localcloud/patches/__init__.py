"""Small, named patches that close moto gaps; each module's docstring says which one.

All are process-wide (moto's backends are) and idempotent; ``apply_all`` installs them in order.
"""

from __future__ import annotations

from infra.localcloud import cfn, faults, iam_audit, outbox, usage
from infra.localcloud.patches import (
    dynamodb,
    eventbridge,
    http_match_cache,
    iot_rules,
    jsonpath_cache,
    lambda_inprocess,
    metrics_flush,
    moto_dispatch_cache,
    scheduler_clock,
    sfn_clients,
    sfn_clock,
    sfn_parse_cache,
    sns_lambda,
    sqs_message_move,
    sqs_poller,
    stepfunctions,
)

PATCHES = (
    ("lambda-in-process", lambda_inprocess.apply),
    ("powertools-metrics-flush", metrics_flush.apply),
    ("sqs-poller", sqs_poller.apply),
    ("sqs-message-move", sqs_message_move.apply),
    ("fault-injection", faults.apply),  # after the SQS poller's add_message
    ("eventbridge-targets", eventbridge.apply),
    ("sns-lambda-deliveries", sns_lambda.apply),
    ("stepfunctions-local-clock", sfn_clock.apply),  # before the busy-tracking wraps of the same waits
    ("stepfunctions-executions", stepfunctions.apply),
    ("stepfunctions-client-reuse", sfn_clients.apply),
    ("stepfunctions-parse-once", sfn_parse_cache.apply),
    ("jsonpath-compile-once", jsonpath_cache.apply),
    ("http-match-parse-once", http_match_cache.apply),
    ("moto-dispatch-methods-once", moto_dispatch_cache.apply),
    ("dynamodb-atomic-requests", dynamodb.apply),
    ("iot-topic-rules", iot_rules.apply),
    ("scheduler-clock", scheduler_clock.apply),
    ("cloudformation-models", cfn.apply),
    ("outbox-timestamps", outbox.apply),
    ("usage-metering", usage.apply),
    ("iam-audit", iam_audit.apply),
)


def apply_all() -> None:
    for _name, apply in PATCHES:
        apply()
