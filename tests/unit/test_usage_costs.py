import json

from infra.costs import estimate, table
from infra.localcloud import usage


def test_metering_counts_requests_capacity_and_lambda_time():
    with usage.metering() as u:
        usage.record_request("before-send.dynamodb.TransactWriteItems",
                             json.dumps({"TransactItems": [{"Put": {}}, {"Put": {}}]}))
        usage.record_request("before-send.dynamodb.GetItem", json.dumps({"ConsistentRead": True}))
        usage.record_request("before-send.dynamodb.Query", b"{}")
        usage.record_request("before-send.sns.Publish", None)
        usage.record_request("before-send.sqs.SendMessage", None)  # counted at delivery only
        usage.record_request("before-send.sqs.SendMessage", None, delivered=True)
        usage.record_invocation("opslayer-x-api", 0.2, 512)
    usage.record_request("before-send.sns.Publish", None)  # outside the meter: ignored
    assert u.dynamodb_write_units == 4 and u.dynamodb_read_units == 1.5
    assert u.requests[("sns", "Publish")] == 1 and u.requests[("sqs", "SendMessage")] == 1
    assert u.lambda_invocations == {"opslayer-x-api": 1} and abs(u.lambda_gb_seconds - 0.1) < 1e-9
    rows = {name: (qty, usd) for name, qty, _, usd in estimate(u, state_transitions=10)}
    assert rows["SMS"][0] == 1 and rows["API Gateway (REST)"][0] == 1
    assert abs(rows["Step Functions (Standard)"][1] - 10 * 0.025 / 1000) < 1e-12
    assert "total per work order" in table(estimate(u, 10))
