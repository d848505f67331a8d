"""The money steps of the workflow: wait for the invoice, check and code it (billed and closed at once when
approved at once), wait for approval, post the bill to the PMS and close. Each action is idempotent (Step
Functions retries tasks)."""

from shared.entry import lambda_entry
from shared.observability import bind, logger
from shared.pms.port import PmsError
from shared.services import invoicing
from shared.services.container import services


class PmsUnavailable(Exception):
    """The error name the state machine retries the bill on (ASL matches error names)."""


@lambda_entry(requires=("document_bucket", "pms_api_secret_arn"))
def lambda_handler(event, context):
    wo_id = event["work_order_id"]
    bind(work_order_id=wo_id)
    svc = services()
    action = event["action"]
    logger.info("invoicing step", extra={"action": action})
    if action == "await_invoice":
        invoicing.await_invoice(svc, wo_id, event["task_token"])
        return {"parked": True}
    if action == "await_approval":
        invoicing.await_approval(svc, wo_id, event["task_token"])
        return {"parked": True}
    if action == "remind":
        return invoicing.remind(svc, wo_id, event["stage"])
    if action == "code":  # a wait: answered here when approved at once (billed and closed in this step)
        return invoicing.code_step(svc, wo_id, event["task_token"])
    if action == "bill":  # billed, the work order closes in the same step
        try:
            return invoicing.bill_or_escalate(svc, wo_id)
        except PmsError as exc:  # unreachable or failing now: the state machine retries with backoff
            raise PmsUnavailable(str(exc)) from exc
    if action == "close":  # an ops retry at the close step (the routine path closes in the bill step)
        invoicing.close(svc, wo_id)
        return {"closed": True}
    raise ValueError(f"unknown invoicing action {action!r}")
