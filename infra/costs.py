"""What one work order costs on AWS, from metered local usage and public list prices (us-east-1,
on-demand; free tiers ignored). Prices are data: check them against the AWS pricing pages before
relying on the totals.

DynamoDB on-demand throughput has cost half as much since 2024-11-01 ($0.625 per million write units,
$0.125 per million read units). The cost goal of issue 13 ($0.97 -> $0.60 per 1,000 work orders) was
set with the earlier prices ($1.25 / $0.25), so the table gives the total at both, the same usage."""

from __future__ import annotations

from infra.localcloud.usage import Usage

# USD per unit
PRICES = {
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_second_arm": 0.0000133334,
    "sfn_state_transition": 0.025 / 1000,
    "dynamodb_write_unit": 0.625 / 1_000_000,
    "dynamodb_read_unit": 0.125 / 1_000_000,
    "sqs_request": 0.40 / 1_000_000,
    "eventbridge_event": 1.00 / 1_000_000,
    "apigateway_rest_request": 3.50 / 1_000_000,
    "secretsmanager_call": 0.05 / 10_000,
    "sms_us": 0.00883,  # SNS / End User Messaging US SMS incl. typical carrier fee
    "email": 0.10 / 1000,
}
# DynamoDB on-demand before 2024-11-01: what the cost goal was set with.
EARLIER_DYNAMODB = {"dynamodb_write_unit": 1.25 / 1_000_000, "dynamodb_read_unit": 0.25 / 1_000_000}
GOAL_PER_1000 = 0.60


def estimate(usage: Usage, state_transitions: int) -> list[tuple[str, float, str, float]]:
    """Rows of (item, quantity, unit, USD)."""
    req = usage.requests

    def count(service: str, *ops: str) -> int:
        return sum(n for (svc, op), n in req.items() if svc == service and (not ops or op in ops))

    api_requests = sum(n for f, n in usage.lambda_invocations.items() if f.endswith("-api"))
    lambda_requests = sum(usage.lambda_invocations.values())
    rows = [
        ("Lambda invocations", lambda_requests, "requests", lambda_requests * PRICES["lambda_request"]),
        ("Lambda compute (arm64)", usage.lambda_gb_seconds, "GB-s",
         usage.lambda_gb_seconds * PRICES["lambda_gb_second_arm"]),
        ("Step Functions (Standard)", state_transitions, "transitions",
         state_transitions * PRICES["sfn_state_transition"]),
        ("DynamoDB writes", usage.dynamodb_write_units, "WRU",
         usage.dynamodb_write_units * PRICES["dynamodb_write_unit"]),
        ("DynamoDB reads", usage.dynamodb_read_units, "RRU",
         usage.dynamodb_read_units * PRICES["dynamodb_read_unit"]),
        ("SQS requests", count("sqs"), "requests", count("sqs") * PRICES["sqs_request"]),
        ("EventBridge events", count("eventbridge", "PutEvents"), "events",
         count("eventbridge", "PutEvents") * PRICES["eventbridge_event"]),
        ("API Gateway (REST)", api_requests, "requests", api_requests * PRICES["apigateway_rest_request"]),
        ("Secrets Manager", count("secretsmanager"), "calls", count("secretsmanager") * PRICES["secretsmanager_call"]),
        ("SMS", count("sns", "Publish"), "messages", count("sns", "Publish") * PRICES["sms_us"]),
        ("Email (SES)", count("ses", "SendEmail"), "messages", count("ses", "SendEmail") * PRICES["email"]),
    ]
    return rows


def not_messaging_per_1000(rows: list[tuple[str, float, str, float]], earlier_dynamodb: bool = False) -> float:
    """USD per 1,000 work orders without SMS and email; `earlier_dynamodb`: at DynamoDB's prices before
    2024-11-01 (the basis of the cost goal)."""
    total = 0.0
    for name, qty, _, usd in rows:
        if name in ("SMS", "Email (SES)"):
            continue
        if earlier_dynamodb and name == "DynamoDB writes":
            usd = qty * EARLIER_DYNAMODB["dynamodb_write_unit"]
        elif earlier_dynamodb and name == "DynamoDB reads":
            usd = qty * EARLIER_DYNAMODB["dynamodb_read_unit"]
        total += usd
    return total * 1000


def table(rows: list[tuple[str, float, str, float]]) -> str:
    lines = [f"{'item':<28} {'quantity':>10} {'unit':<12} {'USD':>12}"]
    lines += [f"{name:<28} {qty:>10.2f} {unit:<12} {usd:>12.6f}" for name, qty, unit, usd in rows]
    total = sum(r[3] for r in rows)
    without_sms = total - next(r[3] for r in rows if r[0] == "SMS")
    now, earlier = not_messaging_per_1000(rows), not_messaging_per_1000(rows, earlier_dynamodb=True)
    lines.append(f"{'total per work order':<28} {'':>10} {'':<12} {total:>12.6f}")
    lines.append(f"{'  of which not SMS':<28} {'':>10} {'':<12} {without_sms:>12.6f}")
    lines.append(f"{'  not messaging, per 1,000':<28} {'':>10} {'':<12} {now:>12.4f}"
                 f"   goal <= ${GOAL_PER_1000:.2f}: {'met' if now <= GOAL_PER_1000 else 'NOT met'}")
    lines.append(f"{'    DynamoDB pre-Nov-2024':<28} {'':>10} {'':<12} {earlier:>12.4f}"
                 f"   goal <= ${GOAL_PER_1000:.2f} (its basis): {'met' if earlier <= GOAL_PER_1000 else 'NOT met'}")
    return "\n".join(lines)


def write_table(usage: Usage) -> str:
    """DynamoDB write units by record kind (`[GSI…]`: that index's entry of the record), most first, in
    $ per 1,000 work orders."""
    rows = sorted(usage.dynamodb_writes.items(), key=lambda kv: (-kv[1], kv[0]))
    lines = [f"{'record kind':<40} {'WRU':>6} {'$ / 1,000':>10}"]
    lines += [f"{kind:<40} {units:>6.0f} {units * PRICES['dynamodb_write_unit'] * 1000:>10.4f}"
              for kind, units in rows]
    total = usage.dynamodb_write_units
    lines.append(f"{'total':<40} {total:>6.0f} {total * PRICES['dynamodb_write_unit'] * 1000:>10.4f}")
    return "\n".join(lines)
