"""The fire drill (EventBridge Scheduler, daily: {"action": "drill"}): plays its scenarios (an emergency, a
routine request, a job no vendor accepts that ops reassign to the in-house technician, an emergency the
secondary on-call acknowledges: SCENARIOS in shared/drill_runner.py) on the drill's own records through the
stack's API, signing the /ops routes with this function's role (or, in key mode, with the X-Ops-Key), and
reports DrillFailed (its alarm tells ops) and each scenario's duration."""

from shared.config import settings
from shared.entry import lambda_entry

STOP_BEFORE_TIMEOUT_S = 60  # the drill gives up (and fails, with its metric) this long before the timeout
SCENARIO_BUDGET_S = 360  # how long after its scenario's start a step may be reached on AWS


@lambda_entry(requires=("drill_api_url",))
def lambda_handler(event, context):
    from shared.drill_runner import DrillRun, play

    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else 900.0
    run = DrillRun(settings().drill_api_url, _ops_auth(), step_budget_s=SCENARIO_BUDGET_S, poll_s=1.0,
                   deadline_s=max(remaining - STOP_BEFORE_TIMEOUT_S, 10.0))
    return play(run)


def _ops_auth():
    from shared.drill_runner import key_auth, sigv4_auth

    cfg = settings()
    if cfg.ops_auth_mode == "key":
        from shared.services.container import services

        return key_auth(services().secrets.get(cfg.ops_key_secret_arn))
    import boto3

    session = boto3.Session()
    return sigv4_auth(session.get_credentials(), session.region_name)
