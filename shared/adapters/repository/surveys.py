"""Tenant surveys: the quarterly NPS question, who is due for it, and when each tenant was last asked.

  tenants due for a quarter   PK=NPSDUE#<quarter>        SK=<tenant key>   {unit_id, work_order_id, verified_at,
                              language}   (written when a job is verified: the schedule Queries one quarter)
  a tenant's NPS question     PK=SURVEY#<tenant key>     SK=NPS#<quarter>  {asked_at, channel, language, score?,
                              answer_channel?, answered_at?}   (created once: the claim that makes runs idempotent)
  a tenant's last question    PK=SURVEY#<tenant key>     SK=LAST           {at}   (the NPS rate limit)
A tenant key is `<unit id>#<hash of the contact>` (shared/domain/satisfaction.py): no phone or email in keys.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import error_code
from shared.adapters.repository.table import Table


def nps_due_key(quarter: str, tenant: str) -> tuple[str, str]:
    return f"NPSDUE#{quarter}", tenant


def survey_key(tenant: str, quarter: str) -> tuple[str, str]:
    return f"SURVEY#{tenant}", f"NPS#{quarter}"


def last_question_key(tenant: str) -> tuple[str, str]:
    return f"SURVEY#{tenant}", "LAST"


class Surveys(Table):
    def note_nps_due(self, quarter: str, tenant: str, data: dict[str, Any]) -> None:
        pk, sk = nps_due_key(quarter, tenant)
        self.db.put_item(TableName=self.table, Item=self._item({"PK": pk, "SK": sk, "tenant": tenant, **data}))

    def nps_due(self, quarter: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "PK = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": f"NPSDUE#{quarter}"}}}
        while True:
            resp = self.db.query(**kwargs)
            items += [_without_keys(self._data(i)) for i in resp["Items"]]
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def claim_survey(self, tenant: str, quarter: str, data: dict[str, Any]) -> bool:
        pk, sk = survey_key(tenant, quarter)
        return self._put_first({"PK": pk, "SK": sk, "tenant": tenant, "quarter": quarter, **data})

    def survey(self, tenant: str, quarter: str) -> dict[str, Any] | None:
        found = self._get(*survey_key(tenant, quarter))
        return _without_keys(found) if found else None

    def answer_survey(self, tenant: str, quarter: str, answer: dict[str, Any]) -> bool:
        answer = {k: v for k, v in answer.items() if v is not None}  # None is not stored (as in a put)
        names = {f"#{k}": k for k in answer}
        values = self._item({f":{k}": v for k, v in answer.items()})
        try:
            self.db.update_item(
                TableName=self.table, Key=self._key(*survey_key(tenant, quarter)),
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in answer),
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(score)",
                ExpressionAttributeNames=names, ExpressionAttributeValues=values)
            return True
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def note_question(self, tenant: str, at: str) -> None:
        pk, sk = last_question_key(tenant)
        self.db.put_item(TableName=self.table, Item=self._item({"PK": pk, "SK": sk, "at": at}))

    def last_question_at(self, tenant: str) -> str | None:
        found = self._get(*last_question_key(tenant))
        return str(found["at"]) if found else None

    def tenant_surveys(self, tenant: str) -> list[dict[str, Any]]:
        """Every survey record of a tenant key (their NPS questions and the last-asked marker)."""
        resp = self.db.query(TableName=self.table, KeyConditionExpression="PK = :pk", ConsistentRead=True,
                             ExpressionAttributeValues={":pk": {"S": f"SURVEY#{tenant}"}})
        return [{**_without_keys(self._data(i)), "record": self._data(i)["SK"]} for i in resp["Items"]]

    def forget_tenant(self, tenant: str) -> int:
        """Delete every survey record of a tenant key and its NPS-due entries of those quarters; how many."""
        keys = [self._key(f"SURVEY#{tenant}", s["record"]) for s in self.tenant_surveys(tenant)]
        keys += [self._key(*nps_due_key(s["quarter"], tenant)) for s in self.tenant_surveys(tenant) if "quarter" in s]
        for key in keys:
            self.db.delete_item(TableName=self.table, Key=key)
        return len(keys)


def _without_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("PK", "SK")}
