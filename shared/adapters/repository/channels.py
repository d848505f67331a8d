"""Tenant phones and emails, SMS opt-outs, inbound-message claims, configuration, small listed
collections (GL accounts, assets) and plain records (sensors, incidents).

  tenant phone / email        PK=PHONE#<e164> | EMAIL#<address>   SK=UNIT#<unit id>   (inbound SMS / email)
  SMS opt-out (STOP)          PK=SMSOPTOUT#<e164>       SK=SMSOPTOUT
  inbound SMS / email seen    PK=SMSIN#<channel>#<id> | EMAILIN#<id>   SK=SMSIN | EMAILIN   (TTL)
  configuration               PK=CONFIG                 SK=<name>
  listed collections          PK=<collection>           SK=<item id>   (GLACCOUNTS, ASSETS)
  sensors                     PK=SENSOR#<id>            SK=META | OPEN
  drill sink (messages)       PK=DRILLSINK              SK=<sent at ISO>#<message id>   (TTL)
"""

from __future__ import annotations

import time
from typing import Any

from shared.adapters.aws import error_code
from shared.adapters.repository.table import Table
from shared.domain.directory import Contact


class Channels(Table):
    def index_tenant_phone(self, phone: str, unit_id: str) -> None:
        """Point a tenant's phone at their unit (written with every tenant contact; read by inbound SMS)."""
        self.db.put_item(TableName=self.table, Item=self._item(
            {"PK": f"PHONE#{phone}", "SK": f"UNIT#{unit_id}", "unit_id": unit_id}))

    def units_for_phone(self, phone: str) -> list[str]:
        return self._ids_under(f"PHONE#{phone}", "unit_id")

    def set_sms_opt_out(self, phone: str, opted_out: bool, at: str) -> None:
        key = self._key(f"SMSOPTOUT#{phone}", "SMSOPTOUT")
        if opted_out:
            self.db.put_item(TableName=self.table, Item={**key, "opted_out_at": {"S": at}})
        else:
            self.db.delete_item(TableName=self.table, Key=key)

    def sms_opted_out(self, phone: str) -> bool:
        return self._get(f"SMSOPTOUT#{phone}", "SMSOPTOUT") is not None

    def claim_inbound_sms(self, channel: str, message_id: str, ttl_seconds: int = 7 * 86400) -> bool:
        """True the first time this inbound message id is seen; False for a provider's retry (duplicate)."""
        return self._put_first({"PK": f"SMSIN#{channel}#{message_id}", "SK": "SMSIN",
                                "expires_at": int(time.time()) + ttl_seconds})

    def index_tenant_email(self, address: str, unit_id: str) -> None:
        """Point a tenant's email address at their unit (read by inbound email, like phones for SMS)."""
        self.db.put_item(TableName=self.table, Item=self._item(
            {"PK": f"EMAIL#{address.strip().lower()}", "SK": f"UNIT#{unit_id}", "unit_id": unit_id}))

    def units_for_email(self, address: str) -> list[str]:
        return self._ids_under(f"EMAIL#{address.strip().lower()}", "unit_id")

    def claim_inbound_email(self, message_id: str, ttl_seconds: int = 7 * 86400) -> bool:
        """True the first time SES delivers this message id; False for a repeated delivery."""
        return self._put_first({"PK": f"EMAILIN#{message_id}", "SK": "EMAILIN",
                                "expires_at": int(time.time()) + ttl_seconds})

    def release_inbound_email(self, message_id: str) -> None:
        self.db.delete_item(TableName=self.table, Key=self._key(f"EMAILIN#{message_id}", "EMAILIN"))

    def put_config(self, name: str, value: dict[str, Any]) -> None:
        self.db.put_item(TableName=self.table, Item=self._item({"PK": "CONFIG", "SK": name, "value": value}))

    def get_config(self, name: str) -> dict[str, Any] | None:
        data = self._get("CONFIG", name, consistent=False)
        return data["value"] if data else None

    def put_config_entry(self, name: str, key: str, value: dict[str, Any] | None) -> None:
        """Set (None: remove) one entry of a CONFIG item keyed by id (one property's owner, say) in place:
        changes of two entries at the same time both land (no read-modify-write of the whole item)."""
        names, key_ = {"#v": "value", "#k": key}, self._key("CONFIG", name)
        if value is None:
            try:
                self.db.update_item(TableName=self.table, Key=key_, UpdateExpression="REMOVE #v.#k",
                                    ConditionExpression="attribute_exists(#v)", ExpressionAttributeNames=names)
            except Exception as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
            return
        self._put_first({"PK": "CONFIG", "SK": name, "value": {}})  # the map the entry goes in, if none yet
        self.db.update_item(TableName=self.table, Key=key_, UpdateExpression="SET #v.#k = :e",
                            ExpressionAttributeNames=names,
                            ExpressionAttributeValues={":e": self._item({"e": value})["e"]})

    def ops_contact(self) -> Contact | None:
        value = self.get_config("ops_contact")
        return Contact.model_validate(value) if value else None

    def get_record(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._get(pk, sk)

    def put_record(self, pk: str, sk: str, data: dict[str, Any]) -> None:
        self.db.put_item(TableName=self.table, Item=self._item({"PK": pk, "SK": sk, **data}))

    def add_to_set(self, pk: str, sk: str, attribute: str, value: str) -> None:
        """Append to a list attribute unless already there (a replayed join is a no-op)."""
        try:
            self.db.update_item(
                TableName=self.table, Key=self._key(pk, sk),
                UpdateExpression="SET #a = list_append(if_not_exists(#a, :empty), :v)",
                ConditionExpression="NOT contains(#a, :s)",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":v": {"L": [{"S": value}]}, ":empty": {"L": []}, ":s": {"S": value}})
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def put_listed(self, collection: str, item_id: str, data: dict[str, Any]) -> None:
        """An item of a small, bounded collection read in one Query (GL accounts, assets)."""
        self.db.put_item(TableName=self.table, Item=self._item({"PK": collection, "SK": item_id, **data}))

    def delete_listed(self, collection: str, item_id: str) -> None:
        self.db.delete_item(TableName=self.table, Key=self._key(collection, item_id))

    def listed(self, collection: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "PK = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": collection}}}
        while True:
            resp = self.db.query(**kwargs)
            items += [self._data(i) for i in resp["Items"]]
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def put_drill_message(self, sent_at: str, message_id: str, data: dict[str, Any], ttl_seconds: int) -> None:
        """A message the drill sink kept instead of sending it (expires after `ttl_seconds`)."""
        self.db.put_item(TableName=self.table, Item=self._item(
            {"PK": DRILL_SINK, "SK": f"{sent_at}#{message_id}", **data, "sent_at": sent_at,
             "expires_at": int(time.time()) + ttl_seconds}))

    def drill_messages(self, since: str, limit: int = 500) -> list[dict[str, Any]]:
        """The sink's messages after `since` (an ISO 8601 time, or the `id` of a message read before), oldest
        first, at most `limit` (expired ones DynamoDB has not removed yet are left out)."""
        now = int(time.time())
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "PK = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": DRILL_SINK}}, "Limit": limit}
        if since:  # DynamoDB refuses an empty key value: no `since` is the whole (TTL-bounded) sink
            kwargs["KeyConditionExpression"] += " AND SK > :since"
            kwargs["ExpressionAttributeValues"][":since"] = {"S": since}
        items: list[dict[str, Any]] = []
        while len(items) < limit:
            resp = self.db.query(**kwargs)
            items += [d for d in map(self._data, resp["Items"]) if int(d.get("expires_at") or 0) > now]
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return [_without_keys(d) for d in items[:limit]]


DRILL_SINK = "DRILLSINK"


def _without_keys(item: dict[str, Any]) -> dict[str, Any]:
    """A sink message as read back: its sort key is its id (a reader's next `since`)."""
    return {"id": item["SK"], **{k: v for k, v in item.items() if k not in ("PK", "SK", "expires_at")}}
