"""PMS ids to Opslayer ids, the order of applied PMS events, and what was last written to the PMS.

  PMS links and event order   PK=PMS#<kind>#<pms id>    SK=LINK   (opslayer id, last applied event time)
  a work order's PMS state    PK=WO#<id>                SK=PMS    (kept apart: PMS writes never race lifecycle writes)
"""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import error_code
from shared.adapters.repository.table import Table


class PmsLinks(Table):
    def advance_pms_event(self, kind: str, pms_id: str, occurred_at: str) -> bool:
        """Record that an event of this time was applied; False if a newer one already was (stale)."""
        try:
            self.db.update_item(
                TableName=self.table, Key=self._key(f"PMS#{kind}#{pms_id}", "LINK"),
                UpdateExpression="SET last_event_at = :t",
                ConditionExpression="attribute_not_exists(last_event_at) OR last_event_at <= :t",
                ExpressionAttributeValues={":t": {"S": occurred_at}})
            return True
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def link_pms(self, kind: str, pms_id: str, opslayer_id: str) -> None:
        self.db.update_item(TableName=self.table, Key=self._key(f"PMS#{kind}#{pms_id}", "LINK"),
                            UpdateExpression="SET opslayer_id = :o",
                            ExpressionAttributeValues={":o": {"S": opslayer_id}})

    def pms_link(self, kind: str, pms_id: str) -> str | None:
        data = self._get(f"PMS#{kind}#{pms_id}", "LINK")
        return data.get("opslayer_id") if data else None

    def pms_state(self, wo_id: str) -> dict[str, Any]:
        """What was last written to the PMS for a work order: {pms_task_id, pms_work_order_id, synced_version}."""
        return self._get(f"WO#{wo_id}", "PMS") or {}

    def put_pms_state(self, wo_id: str, task_id: str, order_id: str | None, synced_version: int) -> None:
        """Record a PMS write. A slower writer never moves the synced version back."""
        try:
            self.db.put_item(
                TableName=self.table,
                Item=self._item({"PK": f"WO#{wo_id}", "SK": "PMS", "pms_task_id": task_id,
                                 "pms_work_order_id": order_id, "synced_version": synced_version}),
                ConditionExpression="attribute_not_exists(synced_version) OR synced_version <= :v",
                ExpressionAttributeValues={":v": {"N": str(synced_version)}})
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
