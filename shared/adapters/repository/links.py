"""Link tokens (only their hashes), first-write-wins markers of done side effects, expiring counters.

  link tokens                 PK=LINK#<hmac of token>   SK=LINK   (scope; TTL after the renewal grace)
  done markers                PK=WO#<id>                SK=TL#ONCE#<key>   (the side effect's timeline entry)
  counters (rate limits)      PK=<counter>              SK=COUNT  (TTL)
"""

from __future__ import annotations

import time
from typing import Any

from shared.adapters.aws import error_code
from shared.adapters.repository.table import Table, done_sk
from shared.domain.workorder import TimelineEntry


class Links(Table):
    def put_link(self, digest: str, record: dict[str, Any], ttl_at: int) -> None:
        """Store a new link's scope under its hash; a collision (never expected) fails loudly."""
        self.db.put_item(TableName=self.table, Item=self._item(
            {"PK": f"LINK#{digest}", "SK": "LINK", "type": "link", **record, "expires_at": ttl_at}),
            ConditionExpression="attribute_not_exists(PK)")

    def get_link(self, digest: str) -> dict[str, Any] | None:
        return self._get(f"LINK#{digest}", "LINK")

    def close_link(self, digest: str, attribute: str, value: str) -> bool:
        """Set a one-time mark on a live link (`answered`, `revoked`); False if it was already set, the
        link was revoked, or it does not exist."""
        try:
            self.db.update_item(
                TableName=self.table, Key=self._key(f"LINK#{digest}", "LINK"),
                UpdateExpression="SET #a = :v",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(#a) "
                                    "AND attribute_not_exists(revoked)",
                ExpressionAttributeNames={"#a": attribute}, ExpressionAttributeValues={":v": {"S": value}})
            return True
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def hit(self, counter: str, ttl_seconds: int) -> int:
        """Add one to a counter that expires; returns the new count (one UpdateItem)."""
        resp = self.db.update_item(
            TableName=self.table, Key=self._key(counter, "COUNT"),
            UpdateExpression="ADD n :one SET expires_at = if_not_exists(expires_at, :ttl)",
            ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": str(int(time.time()) + ttl_seconds)}},
            ReturnValues="UPDATED_NEW")
        return int(resp["Attributes"]["n"]["N"])

    def done(self, key: str, wo_id: str) -> bool:
        """Whether an at-least-once side effect (a message sent, say) was already recorded on the work order."""
        return self._get(f"WO#{wo_id}", done_sk(key)) is not None

    def done_under(self, prefix: str, wo_id: str) -> set[str]:
        """The keys of the side effects recorded on the work order whose key starts with `prefix` (one Query)."""
        start = done_sk("")
        kwargs: dict[str, Any] = {
            "TableName": self.table, "ConsistentRead": True, "ProjectionExpression": "SK",
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"WO#{wo_id}"}, ":prefix": {"S": done_sk(prefix)}}}
        keys: set[str] = set()
        while True:
            resp = self.db.query(**kwargs)
            keys.update(item["SK"]["S"][len(start):] for item in resp["Items"])
            if "LastEvaluatedKey" not in resp:
                return keys
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def mark_done(self, key: str, wo_id: str, entry: TimelineEntry) -> bool:
        """Record a side effect as done: its timeline entry, keyed by the side effect, is the marker (one
        conditional put, 1 WRU; a separate marker in a transaction cost 4). False if already recorded."""
        return self._put_first({"PK": f"WO#{wo_id}", "SK": done_sk(key), "type": "timeline",
                                **entry.model_dump(mode="json")})
