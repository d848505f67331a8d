"""The monthly owner report (EventBridge Scheduler, {"action": "owner_reports"}, by default on the 2nd of
each month): every property owner with an email on file gets a 45-day view-only link to the property's
report of the last full month (shared/services/kpi_pages.py), once per property and month."""

from shared.entry import lambda_entry
from shared.services.container import services
from shared.services.kpi_pages import send_owner_reports


@lambda_entry(requires=("link_secret_arn", "public_base_url"))
def lambda_handler(event, context):
    month = (event or {}).get("month")  # a re-run for a given month (YYYY-MM); default the last full month
    return {"outcomes": send_owner_reports(services(), month)}
