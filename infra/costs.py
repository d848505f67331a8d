"""What one work order costs on AWS, from metered local usage and public list prices (us-east-1,
on-demand, November 2026; free tiers ignored). Prices are data: check them against the AWS pricing
pages before relying on the totals."""

from __future__ import annotations

from infra.localcloud.usage import Usage

# USD per unit
PRICES = {
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_second_arm": 0.0000133334,
    "sfn_state_transition": 0.025 / 1000,
    "dynamodb_write_unit": 1.25 / 1_000_000,
    "dynamodb_read_unit": 0.25 / 1_000_000,
    "sqs_request": 0.40 / 1_000_000,
    "eventbridge_event": 1.00 / 1_000_000,
    "apigateway_rest_request": 3.50 / 1_000_000,
    "secretsmanager_call": 0.05 / 10_000,
    "sms_us": 0.00883,  # SNS / End User Messaging US SMS incl. typical carrier fee
    "email": 0.10 / 1000,
}


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


def table(rows: list[tuple[str, float, str, float]]) -> str:
    lines = [f"{'item':<28} {'quantity':>10} {'unit':<12} {'USD':>12}"]
    lines += [f"{name:<28} {qty:>10.2f} {unit:<12} {usd:>12.6f}" for name, qty, unit, usd in rows]
    total = sum(r[3] for r in rows)
    without_sms = total - next(r[3] for r in rows if r[0] == "SMS")
    without_messaging = without_sms - next(r[3] for r in rows if r[0] == "Email (SES)")
    lines.append(f"{'total per work order':<28} {'':>10} {'':<12} {total:>12.6f}")
    lines.append(f"{'  of which not SMS':<28} {'':>10} {'':<12} {without_sms:>12.6f}")
    lines.append(f"{'  not messaging, per 1,000':<28} {'':>10} {'':<12} {without_messaging * 1000:>12.4f}"
                 f"   goal <= $0.60: {'met' if without_messaging * 1000 <= 0.60 else 'NOT met'}")
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
