"""The DynamoDB table every kind of record shares: (de)serialisation, keyed reads and first-write-wins puts."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from shared.adapters.aws import client as aws_client
from shared.adapters.aws import error_code
from shared.domain.workorder import TimelineEntry

META = "META"
WO_SK = "WO"


def done_sk(key: str) -> str:
    """The sort key of a done side effect's timeline entry (`mark_done`): a timeline item whose key is the
    side effect's, so the entry itself is the first-write-wins marker."""
    return f"TL#ONCE#{key}"


def _stored(value: Any) -> Any:
    """A value DynamoDB accepts: floats become Decimals (through their shortest repr, so 0.1 stays 0.1)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Table:
    """One table, one client (lazy: moto must start first, and warm Lambdas reuse it)."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table = table_name
        self._client = client
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self._ser = TypeSerializer()
        self._de = TypeDeserializer()

    @property
    def db(self) -> Any:
        if self._client is None:
            self._client = aws_client("dynamodb")
        return self._client

    def _item(self, data: dict[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(_stored(v)) for k, v in data.items() if v is not None}

    def _data(self, item: dict[str, Any]) -> dict[str, Any]:
        return _plain({k: self._de.deserialize(v) for k, v in item.items()})

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"PK": {"S": pk}, "SK": {"S": sk}}

    def _get(self, pk: str, sk: str, consistent: bool = True) -> dict[str, Any] | None:
        resp = self.db.get_item(TableName=self.table, Key=self._key(pk, sk), ConsistentRead=consistent)
        return self._data(resp["Item"]) if "Item" in resp else None

    def _ids_under(self, pk: str, attribute: str) -> list[str]:
        """One attribute of every item of a small partition (an index entry per item)."""
        resp = self.db.query(TableName=self.table, KeyConditionExpression="PK = :pk",
                             ExpressionAttributeValues={":pk": {"S": pk}})
        return [self._data(i)[attribute] for i in resp["Items"]]

    def _put_first(self, data: dict[str, Any]) -> bool:
        """Put the item unless one with its key exists; True if this call created it."""
        try:
            self.db.put_item(TableName=self.table, Item=self._item(data),
                             ConditionExpression="attribute_not_exists(PK)")
            return True
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def _timeline_put(self, wo_id: str, entry: TimelineEntry) -> dict[str, Any]:
        sk = f"TL#{entry.at.isoformat()}#{secrets.token_hex(3)}"
        data = {"PK": f"WO#{wo_id}", "SK": sk, "type": "timeline", **entry.model_dump(mode="json")}
        return {"Put": {"TableName": self.table, "Item": self._item(data)}}
