"""The in-memory table the repository twin's parts share: items keyed by (PK, SK) like the DynamoDB
table, stored as plain copies that read back the way DynamoDB gives them back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


class AwsError(Exception):
    """What a botocore ClientError looks like to `shared.adapters.aws.error_code` (same `response`)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.response = {"Error": {"Code": code, "Message": message}}


def condition_failed() -> AwsError:
    return AwsError("ConditionalCheckFailedException", "The conditional request failed")


def transaction_cancelled() -> AwsError:
    return AwsError("TransactionCanceledException", "Transaction cancelled")


def stored_copy(value: Any, top: bool = True) -> Any:
    """A deep copy of `value` as DynamoDB returns it: top-level None attributes are not stored, and a
    float with an integral value comes back as an int (numbers are Decimals there)."""
    if isinstance(value, dict):
        return {k: stored_copy(v, False) for k, v in value.items() if not (top and v is None)}
    if isinstance(value, list | tuple):
        return [stored_copy(v, False) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class MemoryTable:
    """A dict of items by (PK, SK). Reads and writes copy, so callers never alias the store."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self._sequence = 0

    def next_sequence(self) -> int:
        """A counter for sort keys that must be unique (the real table appends random hex)."""
        self._sequence += 1
        return self._sequence

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.items.get((pk, sk))
        return stored_copy(item, False) if item is not None else None

    def exists(self, pk: str, sk: str) -> bool:
        return (pk, sk) in self.items

    def put(self, item: dict[str, Any]) -> None:
        copy = stored_copy(item)
        self.items[(copy["PK"], copy["SK"])] = copy

    def put_first(self, item: dict[str, Any]) -> bool:
        """Put unless an item with this key exists; True if this call created it."""
        if self.exists(item["PK"], item["SK"]):
            return False
        self.put(item)
        return True

    def update(self, pk: str, sk: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Apply `change` to the item (a new one with just its key if missing, as UpdateItem does)."""
        item = self.get(pk, sk) or {"PK": pk, "SK": sk}
        change(item)
        self.put(item)
        return self.get(pk, sk) or {}

    def delete(self, pk: str, sk: str) -> None:
        self.items.pop((pk, sk), None)

    def partition(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        """Every item under a partition key, in sort-key order (a Query)."""
        found = [stored_copy(i, False) for (p, s), i in self.items.items() if p == pk and s.startswith(sk_prefix)]
        return sorted(found, key=lambda i: i["SK"])

    def index(self, name: str, pk: str, newest_first: bool = True) -> Iterator[dict[str, Any]]:
        """Items of a GSI partition (`<name>PK` = pk) ordered by `<name>SK` (a Query on the index)."""
        found = [i for i in self.items.values() if i.get(f"{name}PK") == pk]
        found.sort(key=lambda i: i[f"{name}SK"], reverse=newest_first)
        return (stored_copy(i, False) for i in found)
