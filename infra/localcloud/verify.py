"""After ``create_stack``: prove every template resource exists, or fail loudly.

moto's CloudFormation reaches CREATE_COMPLETE even when it skipped a resource type, so a green
deploy proves little. Each resource of the translated template must be (a) created by the stack
and, where a lookup is cheap, found in its service backend, (b) switched off by a false
``Condition``, or (c) listed in :data:`CONSCIOUSLY_UNCREATED` with the reason it cannot and need
not be real locally. Anything else raises :class:`DeployVerificationError` with the full list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CONSCIOUSLY_UNCREATED: dict[str, str] = {
    # moto treats these as no-ops by design; nothing in a SAM template needs them locally.
    "AWS::CloudFormation::WaitConditionHandle": "moto no-op: there is nothing to wait for locally",
    "AWS::CloudFormation::WaitCondition": "moto no-op: there is nothing to wait for locally",
}
"""Resource types deliberately not created locally, each with its reason (keep this short)."""


class DeployVerificationError(RuntimeError):
    """The stack deployed but some template resources are not real in the local cloud."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Local deploy is incomplete:\n  - " + "\n  - ".join(problems))


Checker = Callable[[Any, str, str, str], None]
"""(resource object, physical id, account, region) -> None; raises if the backend lacks it."""


def _queue(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.sqs.models import sqs_backends

    sqs_backends[account][region].get_queue(physical.rstrip("/").rsplit("/", 1)[-1])


def _table(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.dynamodb.models import dynamodb_backends

    dynamodb_backends[account][region].get_table(physical)


def _function(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.awslambda.utils import get_backend

    get_backend(account, region).get_function(physical)


def _mapping(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.awslambda.utils import get_backend

    if get_backend(account, region).get_event_source_mapping(physical) is None:
        raise LookupError("no such event source mapping")


def _bus(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.events.models import events_backends

    events_backends[account][region].describe_event_bus(physical)


def _rule(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.events.models import events_backends

    bus = events_backends[account][region].describe_event_bus(resource.event_bus_name)
    if resource.name not in bus.rules:
        raise LookupError(f"rule not on bus {resource.event_bus_name}")


def _machine(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    stepfunctions_parser_backends[account][region].describe_state_machine(physical)


def _secret(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.secretsmanager.models import secretsmanager_backends

    secretsmanager_backends[account][region].get_secret_value(physical, None, "AWSCURRENT")


def _identity(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.ses.models import ses_backends

    if physical not in ses_backends[account][region].email_identities:
        raise LookupError("identity not verified")


def _alarm(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    if physical not in cloudwatch_backends[account][region].alarms:
        raise LookupError("no such alarm")


def _dashboard(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    if cloudwatch_backends[account][region].get_dashboard(physical) is None:
        raise LookupError("no such dashboard")


def _key(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.kms.models import kms_backends

    kms_backends[account][region].describe_key(physical)


def _topic(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.sns.models import sns_backends

    sns_backends[account][region].get_topic(physical)


def _subscription(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.sns.models import sns_backends

    if physical not in sns_backends[account][region].subscriptions:
        raise LookupError("no such subscription")


def _log_group(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.logs.models import logs_backends

    if physical not in logs_backends[account][region].groups:
        raise LookupError("no such log group")


def _rest_api(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.apigateway.models import apigateway_backends

    api = apigateway_backends[account][region].get_rest_api(physical)
    if not any(res.resource_methods for res in api.resources.values()):
        raise LookupError("REST API has no methods")


def _permission(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.awslambda.utils import get_backend

    if not get_backend(account, region).get_function(resource.function_name).policy.statements:
        raise LookupError("function policy has no statement")


def _layer(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.awslambda.utils import get_backend

    if get_backend(account, region).layers_versions_by_arn(physical) is None:
        raise LookupError("no such layer version")


def _topic_rule(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.iot.models import iot_backends

    iot_backends[account][region].get_topic_rule(physical)


def _schedule(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.scheduler.models import scheduler_backends

    backend = scheduler_backends[account][region]
    if not any(physical in group.schedules for group in backend.schedule_groups.values()):
        raise LookupError("no such schedule")


def _schedule_group(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.scheduler.models import scheduler_backends

    scheduler_backends[account][region].get_schedule_group(physical)


def _bucket(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    s3_backends[account][get_partition(region)].get_bucket(physical)


def _bucket_policy(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    if not s3_backends[account][get_partition(region)].get_bucket(physical.removesuffix("-policy")).policy:
        raise LookupError("bucket has no policy")


def _receipt_rule_set(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.ses.models import ses_backends

    ses_backends[account][region].describe_receipt_rule_set(physical)


def _receipt_rule(resource: Any, physical: str, account: str, region: str) -> None:
    from moto.ses.models import ses_backends

    rule_set, rule = physical.split(":", 1)
    ses_backends[account][region].describe_receipt_rule(rule_set, rule)


CHECKERS: dict[str, Checker] = {
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::SES::ReceiptRuleSet": _receipt_rule_set,
    "AWS::SES::ReceiptRule": _receipt_rule,
    "AWS::IoT::TopicRule": _topic_rule,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::Scheduler::ScheduleGroup": _schedule_group,
    "AWS::Lambda::Permission": _permission,
    "AWS::Lambda::LayerVersion": _layer,
    "AWS::SQS::Queue": _queue,
    "AWS::DynamoDB::Table": _table,
    "AWS::Lambda::Function": _function,
    "AWS::Lambda::EventSourceMapping": _mapping,
    "AWS::Events::EventBus": _bus,
    "AWS::Events::Rule": _rule,
    "AWS::StepFunctions::StateMachine": _machine,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SES::EmailIdentity": _identity,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::Dashboard": _dashboard,
    "AWS::KMS::Key": _key,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::Subscription": _subscription,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::ApiGateway::RestApi": _rest_api,
}
"""Backend lookups per type; types without one only need to have been created by the stack."""


def verify_stack(stack: Any, template: dict[str, Any], account: str, region: str) -> dict[str, str]:
    """Check the stack against ``template``; return ``{logical_id: physical_id}`` of what exists."""
    resource_map = stack.resource_map
    created: dict[str, Any] = dict(resource_map._parsed_resources)
    problems: list[str] = []
    physical: dict[str, str] = {}
    for logical_id, spec in template.get("Resources", {}).items():
        rtype = spec["Type"]
        condition = spec.get("Condition")
        if condition and not resource_map.lazy_condition_map[condition]:
            continue
        resource = created.get(logical_id)
        if resource is None:
            if rtype in CONSCIOUSLY_UNCREATED:
                continue
            problems.append(f"{logical_id} ({rtype}): not created -- moto has no model and none is registered")
            continue
        physical_id = getattr(resource, "physical_resource_id", None)
        if not isinstance(physical_id, str) or not physical_id:
            problems.append(f"{logical_id} ({rtype}): no usable physical id ({physical_id!r})")
            continue
        checker = CHECKERS.get(rtype)
        if checker is not None:
            try:
                checker(resource, physical_id, account, region)
            except Exception as exc:  # report every failure, not just the first
                problems.append(f"{logical_id} ({rtype}): created but not found in its backend: {exc!r}")
                continue
        physical[logical_id] = physical_id
    if problems:
        raise DeployVerificationError(problems)
    return physical
