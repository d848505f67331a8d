"""IoT consumer: sensor alerts (IoT topic rule -> SQS) become or update work orders. A payload that
cannot be understood goes to the DLQ with the reason at once - no retry loop."""

import json

from pydantic import ValidationError

from shared.batch import SQSRecord, sqs_batch
from shared.domain.sensors import SensorAlert
from shared.entry import lambda_entry
from shared.observability import bind, count, logger
from shared.services.container import services
from shared.services.sensors import UnknownLocation, handle_alert


def _alert(record: SQSRecord) -> None:
    svc = services()
    try:
        alert = SensorAlert.model_validate(json.loads(record.body))
        outcome, wo_id = handle_alert(svc, alert)
    except (ValueError, ValidationError, UnknownLocation) as exc:  # bad payloads are not retried
        reason = _reason(exc)
        svc.queues.send(svc.settings.sensor_dlq_url, record.body, {"reason": reason[:250]})
        count("SensorAlertRejected")
        logger.warning("sensor alert rejected", extra={"reason": reason[:250]})
        return
    bind(work_order_id=wo_id)
    logger.info("sensor alert", extra={"sensor_id": alert.sensor_id, "type": alert.type, "outcome": outcome})


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):  # field names and messages only, never the values
        return "invalid alert: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False))
    return f"{type(exc).__name__}: {exc}"


@lambda_entry(requires=("sensor_dlq_url",))
def lambda_handler(event, context):
    return sqs_batch(event, _alert)
