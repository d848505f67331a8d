"""CloudFormation models moto lacks (or gets wrong), registered into moto's CloudFormation.

Moto's CloudFormation silently skips resource types it has no model for (the stack still reaches
CREATE_COMPLETE) and resolves a ``Ref`` to such a resource to nothing. Each model here really
creates its resource in the matching moto backend, so the rest of the stack and the handlers see
it. New types register the same way with :func:`cfn_model`.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from moto.core.common_models import CloudFormationModel

log = logging.getLogger("infra.localcloud.cfn")

_registry: dict[str, type[CloudFormationModel]] = {}
_unsupported: list[str] = []  # UnsupportedLocally messages not yet reported (see take_unsupported)
_applied = False
_lock = threading.Lock()


class UnsupportedLocally(ValueError):
    """A template resource the local cloud cannot make behave as on AWS: the deploy fails with why."""


class CreatedResource:
    """What a local model hands back to moto's stack: ids and ``Fn::GetAtt`` attributes."""

    def __init__(self, physical_id: str, attributes: dict[str, Any] | None = None) -> None:
        self.physical_resource_id = physical_id
        self.attributes = attributes or {}

    def get_cfn_attribute(self, name: str) -> Any:
        if name not in self.attributes:
            from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

            raise UnformattedGetAttTemplateException()
        return self.attributes[name]

    def is_created(self) -> bool:
        return True


class LocalModel(CloudFormationModel):
    """Base for local models: subclasses set ``TYPE``/``NAME_PROPERTY``/``ATTRS`` and ``create``."""

    TYPE = ""
    NAME_PROPERTY = ""
    ATTRS: tuple[str, ...] = ()

    @staticmethod
    def cloudformation_name_type() -> str:  # moto calls it on the class; overridden per subclass
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRS

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        raise NotImplementedError

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> Any:
        try:
            return cls.create(resource_name, cloudformation_json.get("Properties") or {}, account_id, region_name)
        except UnsupportedLocally as exc:
            with _lock:  # in server mode the reason would otherwise only reach a 500 response
                _unsupported.append(str(exc))
            raise

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:
        raise NotImplementedError(f"{cls.TYPE}: stack updates are not supported locally; redeploy")

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        """Deleting the stack leaves the backend object; the local cloud resets moto on stop."""


def cfn_model(cls: type[LocalModel]) -> type[LocalModel]:
    """Class decorator: register a local model for ``cls.TYPE`` (replacing moto's, if any)."""
    resource_type, name_property = cls.TYPE, cls.NAME_PROPERTY
    cls.cloudformation_type = staticmethod(lambda: resource_type)  # type: ignore[method-assign]
    cls.cloudformation_name_type = staticmethod(lambda: name_property)  # type: ignore[method-assign]
    _registry[resource_type] = cls
    return cls


def registered_types() -> set[str]:
    return set(_registry)


def take_unsupported() -> list[str]:
    """Reasons models refused resources since the last call (for a clear deploy error)."""
    with _lock:
        taken = list(_unsupported)
        _unsupported.clear()
    return taken


# ------------------------------------------------------------------------------------ models
@cfn_model
class StateMachineModel(LocalModel):
    """``AWS::StepFunctions::StateMachine`` in the *executing* backend, substitutions applied.

    moto's own model ignores ``Definition``/``DefinitionSubstitutions`` and creates the machine in
    the non-executing backend, where ``StartExecution`` never runs a state.
    """

    TYPE = "AWS::StepFunctions::StateMachine"
    NAME_PROPERTY = "StateMachineName"
    ATTRS = ("Arn", "Name", "StateMachineName", "StateMachineRevisionId")

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        definition = props.get("DefinitionString")
        if definition is None:
            definition = json.dumps(props.get("Definition") or {})
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        backend = stepfunctions_parser_backends[account_id][region]
        machine = backend.create_state_machine(
            name=props.get("StateMachineName") or name,
            definition=definition,
            roleArn=props.get("RoleArn", ""),
            loggingConfiguration=_lower_first_keys(props.get("LoggingConfiguration")),
            tracingConfiguration=_lower_first_keys(props.get("TracingConfiguration")),
            sm_type=props.get("StateMachineType") or "STANDARD",
        )
        return CreatedResource(
            machine.arn,
            {"Arn": machine.arn, "Name": machine.name, "StateMachineName": machine.name,
             "StateMachineRevisionId": getattr(machine, "revision_id", None) or machine.arn},
        )


def _lower_first_keys(value: Any) -> Any:
    """CFN spells the API's camelCase structures in PascalCase: ``Level`` -> ``level``."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _lower_first_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_first_keys(v) for v in value]
    return value


@cfn_model
class SecretModel(LocalModel):
    """``AWS::SecretsManager::Secret`` with ``SecretString`` or ``GenerateSecretString``."""

    TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"
    ATTRS = ("Id",)

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[account_id][region]
        secret_string = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if secret_string is None and generate is not None:
            password = json.loads(
                backend.get_random_password(
                    password_length=int(generate.get("PasswordLength", 32)),
                    exclude_characters=generate.get("ExcludeCharacters", ""),
                    exclude_numbers=_flag(generate.get("ExcludeNumbers")),
                    exclude_punctuation=_flag(generate.get("ExcludePunctuation")),
                    exclude_uppercase=_flag(generate.get("ExcludeUppercase")),
                    exclude_lowercase=_flag(generate.get("ExcludeLowercase")),
                    include_space=_flag(generate.get("IncludeSpace")),
                    require_each_included_type=_flag(generate.get("RequireEachIncludedType", True)),
                )
            )["RandomPassword"]
            if generate.get("SecretStringTemplate"):
                document = json.loads(generate["SecretStringTemplate"])
                document[generate["GenerateStringKey"]] = password
                secret_string = json.dumps(document)
            else:
                secret_string = password
        created = json.loads(
            backend.create_secret(
                name=props.get("Name") or name,
                secret_string=secret_string,
                secret_binary=None,
                description=props.get("Description"),
                tags=props.get("Tags"),
                kms_key_id=props.get("KmsKeyId"),
                client_request_token=None,
                replica_regions=props.get("ReplicaRegions") or [],
                force_overwrite=False,
            )
        )
        return CreatedResource(created["ARN"], {"Id": created["ARN"]})


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


@cfn_model
class EmailIdentityModel(LocalModel):
    """``AWS::SES::EmailIdentity``: verified at once, so ``SendEmail`` from it is accepted."""

    TYPE = "AWS::SES::EmailIdentity"
    NAME_PROPERTY = "EmailIdentity"

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.ses.models import ses_backends

        identity = props["EmailIdentity"]
        backend = ses_backends[account_id][region]
        if "@" in identity:
            backend.verify_email_identity(identity)
        else:
            backend.verify_domain(identity)
        return CreatedResource(identity)


@cfn_model
class AlarmModel(LocalModel):
    """``AWS::CloudWatch::Alarm`` (metric alarms) in moto's CloudWatch backend."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRS = ("Arn",)

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends

        alarm = cloudwatch_backends[account_id][region].put_metric_alarm(
            name=props.get("AlarmName") or name,
            namespace=props.get("Namespace"),  # type: ignore[arg-type]
            metric_name=props.get("MetricName"),  # type: ignore[arg-type]
            comparison_operator=props["ComparisonOperator"],
            evaluation_periods=int(props["EvaluationPeriods"]),
            period=int(props.get("Period", 60)),
            threshold=float(props.get("Threshold", 0)),
            statistic=props.get("Statistic"),  # type: ignore[arg-type]
            description=props.get("AlarmDescription", ""),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions", [])],
            alarm_actions=props.get("AlarmActions", []),
            ok_actions=props.get("OKActions"),
            insufficient_data_actions=props.get("InsufficientDataActions"),
            treat_missing_data=props.get("TreatMissingData"),
            datapoints_to_alarm=props.get("DatapointsToAlarm"),
            unit=props.get("Unit"),
        )
        return CreatedResource(alarm.name, {"Arn": alarm.alarm_arn})


@cfn_model
class DashboardModel(LocalModel):
    """``AWS::CloudWatch::Dashboard`` in moto's CloudWatch backend, its body checked as PutDashboard does
    (JSON with a ``widgets`` list); ``Ref`` is the dashboard's name (moto's own model gives no id)."""

    TYPE = "AWS::CloudWatch::Dashboard"
    NAME_PROPERTY = "DashboardName"

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends

        dashboard_name = props.get("DashboardName") or name
        try:
            body = json.loads(props["DashboardBody"])
        except ValueError as exc:
            raise ValueError(f"{dashboard_name}: the dashboard body is not JSON ({exc})") from exc
        if not isinstance(body, dict) or not isinstance(body.get("widgets"), list):
            raise ValueError(f"{dashboard_name}: the dashboard body needs a 'widgets' list")
        cloudwatch_backends[account_id][region].put_dashboard(dashboard_name, props["DashboardBody"])
        return CreatedResource(dashboard_name)


@cfn_model
class QueryDefinitionModel(LocalModel):
    """``AWS::Logs::QueryDefinition`` (a Logs Insights saved query). moto keeps none and runs no Logs
    Insights queries, so locally the definition is only checked: a name, a query, and log groups that the
    stack made (or that exist). ``Ref`` and ``QueryDefinitionId`` are a fresh id, as on AWS."""

    TYPE = "AWS::Logs::QueryDefinition"
    ATTRS = ("QueryDefinitionId",)

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.logs.models import logs_backends

        if not props.get("Name") or not str(props.get("QueryString", "")).strip():
            raise ValueError(f"{name}: a query definition needs a Name and a QueryString")
        groups = logs_backends[account_id][region].groups
        missing = [g for g in props.get("LogGroupNames", []) if g not in groups]
        if missing:
            raise ValueError(f"{name}: no such log groups {missing}")
        query_id = str(uuid.uuid4())
        return CreatedResource(query_id, {"QueryDefinitionId": query_id})


@cfn_model
class QueuePolicyModel(LocalModel):
    """``AWS::SQS::QueuePolicy``: stored as each queue's ``Policy`` attribute.

    moto does not enforce resource policies, but the policy is visible (``GetQueueAttributes``).
    """

    TYPE = "AWS::SQS::QueuePolicy"

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.sqs.models import sqs_backends

        backend = sqs_backends[account_id][region]
        policy = json.dumps(props["PolicyDocument"])
        for url in props.get("Queues", []):
            backend.set_queue_attributes(str(url).rstrip("/").rsplit("/", 1)[-1], {"Policy": policy})
        return CreatedResource(f"{name}-{uuid.uuid4().hex[:8]}")


@cfn_model
class RestApiModel(LocalModel):
    """``AWS::ApiGateway::RestApi`` including its OpenAPI ``Body`` (what SAM generates).

    moto's model ignores ``Body``, so the API has no methods and the SAM deployment fails with
    "The REST API doesn't contain any methods". Here the paths, methods and Lambda proxy
    integrations of the body are created in moto's API Gateway backend. (moto cannot *serve* the
    API; the local cloud's API server does, from the template's ``Api`` events.)
    """

    TYPE = "AWS::ApiGateway::RestApi"
    NAME_PROPERTY = "Name"
    ATTRS = ("RootResourceId", "RestApiId")

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.apigateway.models import apigateway_backends

        backend = apigateway_backends[account_id][region]
        body = props.get("Body") or {}
        api = backend.create_rest_api(
            name=props.get("Name") or (body.get("info") or {}).get("title") or name,
            description=props.get("Description", ""),
            endpoint_configuration=props.get("EndpointConfiguration"),
        )
        for path, operations in sorted((body.get("paths") or {}).items()):
            resource = _ensure_resource(backend, api, path)
            for method, operation in operations.items():
                if method.startswith("x-") or not isinstance(operation, dict):
                    continue
                http_method = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                security = operation.get("security") or []
                backend.put_method(api.id, resource.id, http_method, "AWS_IAM" if _uses_iam(security) else "NONE")
                integration = operation.get("x-amazon-apigateway-integration") or {}
                if integration:
                    backend.put_integration(
                        api.id, resource.id, http_method,
                        integration_type=str(integration.get("type", "aws_proxy")).upper(),
                        uri=_flatten_sub(integration.get("uri", "")),
                        integration_method=integration.get("httpMethod", "POST"),
                    )
        root = api.get_resource_for_path("/")
        return _RestApiResource(api, root.id)


class _RestApiResource(CreatedResource):
    def __init__(self, api: Any, root_id: str) -> None:
        super().__init__(api.id, {"RootResourceId": root_id, "RestApiId": api.id})
        self.api = api


def _uses_iam(security: list[dict[str, Any]]) -> bool:
    return any("AWS_IAM" in entry or "sigv4" in entry for entry in security if isinstance(entry, dict))


def _flatten_sub(value: Any) -> str:
    """Integration URIs arrive as resolved strings; keep whatever moto's intrinsics left."""
    return value if isinstance(value, str) else json.dumps(value)


def _ensure_resource(backend: Any, api: Any, path: str) -> Any:
    current = api.get_resource_for_path("/")
    walked = ""
    for part in [p for p in path.split("/") if p]:
        walked += "/" + part
        found = api.get_resource_for_path(walked)
        current = found if found is not None else backend.create_resource(api.id, current.id, part)
    return current


@cfn_model
class StageModel(LocalModel):
    """``AWS::ApiGateway::Stage`` in moto's API Gateway backend (served by the local API server)."""

    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.apigateway.models import apigateway_backends

        stage_name = props.get("StageName") or name
        apigateway_backends[account_id][region].create_stage(
            props["RestApiId"], stage_name, props.get("DeploymentId", ""),
            variables=props.get("Variables"), description=props.get("Description", ""),
            tracing_enabled=props.get("TracingEnabled"),
        )
        return CreatedResource(stage_name)


@cfn_model
class TopicRuleModel(LocalModel):
    """``AWS::IoT::TopicRule`` in moto's IoT backend; publishes are routed through it.

    The SQL and actions are checked at deploy time: SQL outside the subset the local cloud
    evaluates (:mod:`infra.localcloud.iotsql`) or an action other than ``Sqs``/``Lambda`` fails the
    deploy with the reason, instead of a rule that silently never fires.
    """

    TYPE = "AWS::IoT::TopicRule"
    NAME_PROPERTY = "RuleName"
    ATTRS = ("Arn",)

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        import re

        from moto.iot.models import iot_backends

        from infra.localcloud.patches import iot_rules

        payload = props.get("TopicRulePayload") or {}
        actions = _lower_first_keys(payload.get("Actions") or [])
        error_action = _lower_first_keys(payload.get("ErrorAction") or {})
        rule_name = props.get("RuleName") or re.sub(r"[^A-Za-z0-9_]", "_", name)
        try:
            iot_rules.validate_rule(payload.get("Sql", ""), payload.get("AwsIotSqlVersion"), actions, error_action)
        except iot_rules.UnsupportedTopicRule as exc:
            raise UnsupportedLocally(f"AWS::IoT::TopicRule {rule_name}: {exc}") from None
        backend = iot_backends[account_id][region]
        backend.create_topic_rule(
            rule_name,
            sql=payload["Sql"],
            description=payload.get("Description", ""),
            rule_disabled=_flag(payload.get("RuleDisabled", False)),
            actions=actions,
            error_action=error_action,
            aws_iot_sql_version=payload.get("AwsIotSqlVersion"),
        )
        return CreatedResource(rule_name, {"Arn": backend.rules[rule_name].arn})


@cfn_model
class ScheduleGroupModel(LocalModel):
    """``AWS::Scheduler::ScheduleGroup`` in moto's Scheduler backend."""

    TYPE = "AWS::Scheduler::ScheduleGroup"
    NAME_PROPERTY = "Name"
    ATTRS = ("Arn", "CreationDate", "LastModificationDate", "State")

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.scheduler.models import scheduler_backends

        group = scheduler_backends[account_id][region].create_schedule_group(
            props.get("Name") or name, props.get("Tags") or []
        )
        return CreatedResource(group.name, {"Arn": group.arn, "CreationDate": group.created_on,
                                            "LastModificationDate": group.last_modified, "State": "ACTIVE"})


@cfn_model
class ScheduleModel(LocalModel):
    """``AWS::Scheduler::Schedule`` in moto's Scheduler backend, fired by the local clock.

    What the clock cannot fire as AWS would (an unsupported expression, a universal ``aws-sdk``
    target, a target other than Lambda/SQS/Step Functions) fails the deploy with the reason.
    """

    TYPE = "AWS::Scheduler::Schedule"
    NAME_PROPERTY = "Name"
    ATTRS = ("Arn",)

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.scheduler.models import scheduler_backends

        from infra.localcloud import schedules
        from infra.localcloud.patches import scheduler_clock

        schedule_name = props.get("Name") or name
        try:
            scheduler_clock.validate_schedule(props)
        except ValueError as exc:
            raise UnsupportedLocally(f"AWS::Scheduler::Schedule {schedule_name}: {exc}") from None
        start, end = schedules.parse_date(props.get("StartDate")), schedules.parse_date(props.get("EndDate"))
        schedule = scheduler_backends[account_id][region].create_schedule(
            description=props.get("Description", ""),
            end_date=end.timestamp() if end else None,  # type: ignore[arg-type]  # the API's epoch seconds
            flexible_time_window=props.get("FlexibleTimeWindow") or {"Mode": "OFF"},
            group_name=props.get("GroupName") or "default",
            kms_key_arn=props.get("KmsKeyArn"),  # type: ignore[arg-type]
            name=schedule_name,
            schedule_expression=props["ScheduleExpression"],
            schedule_expression_timezone=props.get("ScheduleExpressionTimezone"),  # type: ignore[arg-type]
            start_date=start.timestamp() if start else None,  # type: ignore[arg-type]
            state=props.get("State", "ENABLED"),
            target=dict(props["Target"]),
            action_after_completion=props.get("ActionAfterCompletion"),
        )
        return CreatedResource(schedule.name, {"Arn": schedule.arn})


@cfn_model
class SubscriptionModel(LocalModel):
    """``AWS::SNS::Subscription`` in moto's SNS backend (moto has no model: it was silently skipped).

    Deliveries to ``lambda`` go through the asynchronous, AWS-shaped path of
    :mod:`infra.localcloud.patches.sns_lambda`; ``sqs`` is moto's own; ``email`` and ``sms`` (people:
    the ops alert subscriptions) are kept in moto's SNS, which records what it would send and sends nothing.
    Other protocols, and subscription options the local cloud would ignore, fail the deploy with the reason.
    """

    TYPE = "AWS::SNS::Subscription"
    SUPPORTED = ("lambda", "sqs", "email", "sms")
    OPTIONS = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy")

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.sns.models import sns_backends

        protocol = str(props.get("Protocol", "")).lower()
        if protocol not in cls.SUPPORTED:
            raise UnsupportedLocally(f"AWS::SNS::Subscription {name}: protocol {protocol!r} is not delivered "
                                     f"locally (supported: {', '.join(cls.SUPPORTED)})")
        ignored = [k for k in props if k not in ("TopicArn", "Endpoint", "Protocol", "Region", *cls.OPTIONS)]
        if ignored:
            raise UnsupportedLocally(f"AWS::SNS::Subscription {name}: {', '.join(ignored)} not supported locally")
        backend = sns_backends[account_id][region]
        subscription = backend.subscribe(props["TopicArn"], props["Endpoint"], protocol)
        for option in cls.OPTIONS:
            if option in props:
                value = props[option]
                backend.set_subscription_attributes(
                    subscription.arn, option, json.dumps(value) if isinstance(value, dict) else str(value).lower())
        return CreatedResource(subscription.arn)


@cfn_model
class BucketModel(LocalModel):
    """``AWS::S3::Bucket`` with the properties the stack relies on.

    moto's model applies only ``BucketEncryption`` and ``Tags``: public access block, lifecycle,
    CORS, ownership and - what matters most - ``NotificationConfiguration`` (EventBridge) would be
    silently dropped, and no upload would ever reach its rule. Properties the local cloud cannot
    honour fail the deploy with the reason."""

    TYPE = "AWS::S3::Bucket"
    NAME_PROPERTY = "BucketName"
    ATTRS = ("Arn", "DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL")
    HANDLED = ("BucketName", "BucketEncryption", "PublicAccessBlockConfiguration", "LifecycleConfiguration",
               "CorsConfiguration", "NotificationConfiguration", "OwnershipControls", "VersioningConfiguration",
               "LoggingConfiguration", "Tags")

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.s3.cloud_formation import cfn_to_api_encryption
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        ignored = [k for k in props if k not in cls.HANDLED]
        if ignored:
            raise UnsupportedLocally(f"AWS::S3::Bucket {name}: {', '.join(ignored)} not supported locally")
        notification = dict(props.get("NotificationConfiguration") or {})
        unsupported = [k for k in notification if k != "EventBridgeConfiguration"]
        if unsupported:
            raise UnsupportedLocally(f"AWS::S3::Bucket {name}: notifications {', '.join(unsupported)} not "
                                     f"delivered locally (use EventBridgeConfiguration)")
        backend = s3_backends[account_id][get_partition(region)]
        bucket_name = props.get("BucketName") or name.lower()
        bucket = backend.create_bucket(bucket_name, region)
        if "BucketEncryption" in props:
            backend.put_bucket_encryption(bucket_name, cfn_to_api_encryption(props["BucketEncryption"]))
        if "VersioningConfiguration" in props:
            backend.put_bucket_versioning(bucket_name, props["VersioningConfiguration"]["Status"])
        if "PublicAccessBlockConfiguration" in props:
            backend.put_public_access_block(bucket_name, dict(props["PublicAccessBlockConfiguration"]))
        if "LifecycleConfiguration" in props:
            backend.put_bucket_lifecycle(bucket_name, [_lifecycle_rule(r) for r in
                                                       props["LifecycleConfiguration"]["Rules"]])
        if "CorsConfiguration" in props:
            backend.put_bucket_cors(bucket_name, [
                {"AllowedMethod": r["AllowedMethods"], "AllowedOrigin": r["AllowedOrigins"],
                 "AllowedHeader": r.get("AllowedHeaders", []), "ExposeHeader": r.get("ExposedHeaders", []),
                 **({"MaxAgeSeconds": str(r["MaxAge"])} if "MaxAge" in r else {})}
                for r in props["CorsConfiguration"]["CorsRules"]])
        if "LoggingConfiguration" in props:
            _set_access_logging(backend, bucket, props["LoggingConfiguration"])
        bridge = (notification.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled")
        if str(bridge).lower() == "true":
            bucket.set_notification_configuration({"EventBridgeConfiguration": {}})
        return bucket


def _set_access_logging(backend: Any, bucket: Any, config: dict[str, Any]) -> None:
    """Server access logging, kept as ``GetBucketLogging`` shows it (moto writes no log objects). moto's
    ``put_bucket_logging`` also wants the target to grant the logging service, but the local bucket policy
    keeps only unconditional statements (see :class:`BucketPolicyModel`), so only the target's existence
    is checked here; the grant is checked on AWS."""
    target = str(config["DestinationBucketName"])
    if target not in backend.buckets:
        raise ValueError(f"{bucket.name}: access-log target bucket {target} does not exist")
    bucket.logging = {"TargetBucket": target, "TargetPrefix": config.get("LogFilePrefix", "")}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CFN lifecycle rule in the API's shape (the one moto's backend reads)."""
    api: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule.get("Status", "Enabled")}
    if "Prefix" in rule:
        api["Filter"] = {"Prefix": rule["Prefix"]}
    else:
        api["Filter"] = {"Prefix": ""}
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    return api


@cfn_model
class BucketPolicyModel(LocalModel):
    """``AWS::S3::BucketPolicy`` (moto has no model).

    moto enforces a bucket policy's ``Principal: "*"`` statements but ignores their ``Condition``, so a
    conditional statement would apply unconditionally (``Deny`` unless ``aws:SecureTransport`` would
    refuse everything). Only unconditional statements are stored and enforced locally; the conditional
    ones (TLS-only, the SES writer's source account/ARN) are checked on AWS alone."""

    TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        bucket = str(props["Bucket"])
        document = dict(props["PolicyDocument"])
        statements = document.get("Statement") or []
        statements = [statements] if isinstance(statements, dict) else list(statements)
        document["Statement"] = [s for s in statements if not s.get("Condition")]
        s3_backends[account_id][get_partition(region)].put_bucket_policy(bucket, json.dumps(document).encode())
        return CreatedResource(f"{bucket}-policy")


@cfn_model
class ReceiptRuleSetModel(LocalModel):
    """``AWS::SES::ReceiptRuleSet`` in moto's SES backend. Making it *active* is an account setting
    CloudFormation cannot change; locally :meth:`LocalCloud.receive_email` applies the stack's rules."""

    TYPE = "AWS::SES::ReceiptRuleSet"
    NAME_PROPERTY = "RuleSetName"

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.ses.models import ses_backends

        rule_set = props.get("RuleSetName") or name
        ses_backends[account_id][region].create_receipt_rule_set(rule_set)
        return CreatedResource(rule_set)


@cfn_model
class ReceiptRuleModel(LocalModel):
    """``AWS::SES::ReceiptRule`` in moto's SES backend. Only the actions the local cloud performs
    (``S3Action``, ``LambdaAction``, ``StopAction``) are accepted."""

    TYPE = "AWS::SES::ReceiptRule"
    ACTIONS = ("S3Action", "LambdaAction", "StopAction")

    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        from moto.ses.models import ses_backends

        rule = dict(props["Rule"])
        rule.setdefault("Name", name)
        for action in rule.get("Actions", []):
            unknown = [k for k in action if k not in cls.ACTIONS]
            if unknown:
                raise UnsupportedLocally(f"AWS::SES::ReceiptRule {name}: {', '.join(unknown)} not performed "
                                         f"locally (supported: {', '.join(cls.ACTIONS)})")
        rule["Enabled"] = str(rule.get("Enabled", False)).lower() == "true"
        rule["ScanEnabled"] = str(rule.get("ScanEnabled", False)).lower() == "true"
        ses_backends[account_id][region].create_receipt_rule(str(props["RuleSetName"]), rule, props.get("After"))
        return CreatedResource(f"{props['RuleSetName']}:{rule['Name']}")


# ------------------------------------------------------------------------------------ install
def _give_physical_ids() -> None:
    """Some moto models have no ``physical_resource_id``: a ``Ref`` to them then yields the Python
    object (``Layers: [!Ref CoreLayer]`` would hold an object, not the layer version ARN) and the
    stack lists them without an id. Give them the id ``Ref`` returns on AWS."""
    from moto.apigateway.models import Deployment
    from moto.awslambda.models import LayerVersion, Permission

    if not hasattr(LayerVersion, "physical_resource_id"):
        LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]
    if not hasattr(Deployment, "physical_resource_id"):
        Deployment.physical_resource_id = property(lambda self: self.id)  # type: ignore[attr-defined]

    original = Permission.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_permission(cls: Any, resource_name: str, cloudformation_json: dict[str, Any],
                          account_id: str, region_name: str, **kwargs: Any) -> Any:
        permission = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        permission.physical_resource_id = resource_name
        permission.function_name = cloudformation_json["Properties"]["FunctionName"]
        return permission

    Permission.create_from_cloudformation_json = classmethod(create_permission)  # type: ignore[method-assign,assignment]


def apply() -> None:
    """Make moto's CloudFormation resolve types through this registry first (idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.cloudformation import parsing

        moto_model_map: Callable[[], dict[str, type[CloudFormationModel]]] = parsing.get_model_map
        moto_name_map: Callable[[], dict[str, str]] = parsing.get_name_type_map

        def get_model_map() -> dict[str, type[CloudFormationModel]]:
            merged = dict(moto_model_map())
            merged.update(_registry)
            return merged

        def get_name_type_map() -> dict[str, str]:
            merged = dict(moto_name_map())
            merged.update({t: m.cloudformation_name_type() for t, m in _registry.items()})
            return merged

        def resource_name_property_from_type(resource_type: str) -> str | None:
            return get_name_type_map().get(resource_type)

        _give_physical_ids()
        parsing.get_model_map = get_model_map  # type: ignore[assignment]
        parsing.get_name_type_map = get_name_type_map  # type: ignore[assignment]
        parsing.resource_name_property_from_type = resource_name_property_from_type
        _applied = True
