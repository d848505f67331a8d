"""The quarterly NPS question (EventBridge Scheduler, daily, {"action": "nps"}): tenants with a job verified
this quarter (the NPSDUE#<quarter> index: one Query, no Scan) are asked once per quarter, never within
NPS_GAP_DAYS of another survey question (shared/services/satisfaction.py). A second run asks nobody again."""

from shared.entry import lambda_entry
from shared.services.container import services
from shared.services.satisfaction import ask_nps


@lambda_entry(requires=("link_secret_arn", "public_base_url"))
def lambda_handler(event, context):
    svc = services()
    return {"outcomes": ask_nps(svc, svc.settings.nps_gap_days)}
