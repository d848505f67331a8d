import json

from infra.costs import estimate, table, write_table
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


def test_writes_are_billed_by_item_size_and_index_entries_per_record_kind():
    wo = {"PK": {"S": "WO#1"}, "SK": {"S": "WO"}}
    small = usage.Stored(300, {"GSI1": ("STATUS#received", "t#1")}, "a")
    moved = usage.Stored(1500, {"GSI1": ("STATUS#triaged", "t#1")}, "b")  # over 1 KB: 2 units
    u = usage.Usage()
    usage._dynamodb_writes(u, "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "t", "Item": wo}},
        {"Put": {"TableName": "t", "Item": {"PK": {"S": "WO#1"}, "SK": {"S": "TL#2026#ab"}}}},
        {"ConditionCheck": {"TableName": "t", "Key": wo}}]}, [(small, moved), (None, usage.Stored(100, {}, "c"))])
    # the work order: 2 KB x 2 (transaction); its status index entry moved: delete (1) + put (2)
    assert u.dynamodb_writes == {"work order": 4, "work order [GSI1]": 3, "timeline entry": 2}
    assert u.dynamodb_write_units == 9
    unchanged = usage.Usage()
    usage._dynamodb_writes(unchanged, "PutItem", {"TableName": "t", "Item": wo}, [(small, small)])
    assert unchanged.dynamodb_writes == {"work order": 1}  # a failed condition is billed, no index write
    assert usage.record_kind({"PK": {"S": "KPIWO#1"}, "SK": {"S": "FACTS"}}) == "KPI work order facts"
    assert "record kind" in write_table(u) and "work order [GSI1]" in write_table(u)


def test_an_index_that_projects_keys_only_is_written_only_when_its_entry_changes():
    wo = {"PK": {"S": "WO#1"}, "SK": {"S": "WO"}}
    entry = {"GSI1": (90, "keys-received")}
    before = usage.Stored(2500, {"GSI1": ("STATUS#received", "t#1")}, "a", entry)
    edited = usage.Stored(2600, {"GSI1": ("STATUS#received", "t#1")}, "b", entry)  # same status, other fields
    moved = usage.Stored(2600, {"GSI1": ("STATUS#triaged", "t#1")}, "c", {"GSI1": (90, "keys-triaged")})
    u = usage.Usage()
    usage._dynamodb_writes(u, "PutItem", {"TableName": "t", "Item": wo}, [(before, edited)])
    assert u.dynamodb_writes == {"work order": 3}  # the item's 3 KB; its index entry did not change
    usage._dynamodb_writes(u, "PutItem", {"TableName": "t", "Item": wo}, [(edited, moved)])
    assert u.dynamodb_writes == {"work order": 6, "work order [GSI1]": 2}  # the small entry moved: delete + put
    created = usage.Usage()
    usage._dynamodb_writes(created, "PutItem", {"TableName": "t", "Item": wo}, [(None, before)])
    assert created.dynamodb_writes == {"work order": 3, "work order [GSI1]": 1}


def test_an_unmetered_thread_is_left_out_of_the_meter_while_other_threads_are_counted():
    """An observer's requests (a benchmark polling the ops view) are not the work order's cost."""
    import threading

    with usage.metering() as u:
        with usage.unmetered():
            usage.record_request("before-send.dynamodb.GetItem", json.dumps({"ConsistentRead": True}))
            usage.record_invocation("opslayer-x-api", 0.2, 512)
            other = threading.Thread(target=usage.record_request, args=("before-send.sns.Publish", None))
            other.start()
            other.join()
        usage.record_request("before-send.dynamodb.Query", b"{}")
    assert u.requests == {("sns", "Publish"): 1, ("dynamodb", "Query"): 1}
    assert u.dynamodb_read_units == 0.5 and not u.lambda_invocations


def test_the_total_is_given_at_todays_dynamodb_prices_and_at_those_the_goal_was_set_with():
    from infra.costs import not_messaging_per_1000

    u = usage.Usage()
    u.dynamodb_write_units, u.dynamodb_read_units = 200, 100
    u.requests[("sns", "Publish")] = 3  # messaging is left out of both figures
    rows = estimate(u, state_transitions=0)
    assert abs(not_messaging_per_1000(rows) - (200 * 0.625 + 100 * 0.125) / 1000) < 1e-9
    assert abs(not_messaging_per_1000(rows, earlier_dynamodb=True) - (200 * 1.25 + 100 * 0.25) / 1000) < 1e-9
    assert "(its basis)" in table(rows)
