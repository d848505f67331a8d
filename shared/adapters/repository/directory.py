"""Properties, units and vendors, with the vendor indexes dispatch and inbound email read.

  property / unit / vendor    PK=PROPERTY#<id> | UNIT#<id> | VENDOR#<id>   SK=META
  units of a property         PK=UNITS#<property id>    SK=UNIT#<id>   (adjacency list, written by put_unit:
                              the KPI cost per unit counts them with a Query)
  vendors by trade and area   PK=VENDORS#<trade>#<area> SK=VENDOR#<id>   (adjacency list)
  vendors by email address    PK=VENDOREMAIL#<email>    SK=VENDOR#<id>   (inbound email invoices)
  every vendor / property     PK=ALL#VENDOR | ALL#PROPERTY   SK=VENDOR#<id> | PROPERTY#<id>   (the setup
                              export lists them in one Query per kind)
  every in-house technician   PK=ALL#TECHNICIAN   SK=VENDOR#<id>   (a vendor record with in_house: offered,
                              assigned and invoiced like a vendor; listed apart from the vendors)
  insurance by expiry month   PK=INSURANCE#<yyyy-mm>   SK=<yyyy-mm-dd>#VENDOR#<id>   (the daily warning
                              check reads a date range of one or two months; active vendors only)
  insurance warning sent      PK=VENDOR#<id>            SK=INSURANCEWARNED#<yyyy-mm-dd>   (once per expiry date)
"""

from __future__ import annotations

from datetime import date, timedelta

from shared.adapters.repository.table import META, Table
from shared.domain.directory import Property, Unit, Vendor
from shared.domain.errors import NotFound

ALL_VENDORS = "ALL#VENDOR"
ALL_TECHNICIANS = "ALL#TECHNICIAN"
ALL_PROPERTIES = "ALL#PROPERTY"


def vendor_index_keys(vendor: Vendor) -> set[tuple[str, str]]:
    """The index entries dispatch (trade x area) and inbound email (address) find the vendor by."""
    keys = {(f"VENDORS#{trade.value}#{area}", f"VENDOR#{vendor.id}")
            for trade in vendor.trades for area in vendor.service_areas}
    keys.add((ALL_TECHNICIANS if vendor.in_house else ALL_VENDORS, f"VENDOR#{vendor.id}"))
    if vendor.email:
        keys.add((f"VENDOREMAIL#{vendor.email.strip().lower()}", f"VENDOR#{vendor.id}"))
    expires = vendor.insurance.expires_on if vendor.insurance else None
    if expires and vendor.active and not vendor.in_house:
        keys.add((f"INSURANCE#{expires:%Y-%m}", f"{expires.isoformat()}#VENDOR#{vendor.id}"))
    return keys


def units_key(property_id: str) -> str:
    return f"UNITS#{property_id}"


def expiry_months(first: date, last: date) -> list[str]:
    """The insurance index partitions ("2026-12", "2027-01") a range of expiry dates spans."""
    months: list[str] = []
    day = first.replace(day=1)
    while day <= last:
        months.append(f"{day:%Y-%m}")
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def expiry_range(first: date, last: date) -> tuple[str, str]:
    """The sort-key bounds of the expiry dates first..last (inclusive) in the insurance index."""
    return first.isoformat(), f"{last.isoformat()}#~"  # "~" sorts after "VENDOR#..."


def insurance_warned_key(vendor_id: str, expires_on: date) -> tuple[str, str]:
    return f"VENDOR#{vendor_id}", f"INSURANCEWARNED#{expires_on.isoformat()}"


class Directory(Table):
    def put_property(self, prop: Property) -> None:
        """The property and its entry in the list of every property."""
        self.db.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.table, "Item": self._item(
                {"PK": f"PROPERTY#{prop.id}", "SK": META, "type": "property", **prop.model_dump(mode="json")})}},
            {"Put": {"TableName": self.table, "Item": self._item(
                {"PK": ALL_PROPERTIES, "SK": f"PROPERTY#{prop.id}", "property_id": prop.id})}}])

    def property_ids(self) -> list[str]:
        """Every property's id, in id order (one paged Query)."""
        return [i["property_id"] for i in self._paged(ALL_PROPERTIES)]

    def vendor_ids(self) -> list[str]:
        """Every vendor's id, active or not, in id order (one paged Query); not the in-house technicians."""
        return [i["vendor_id"] for i in self._paged(ALL_VENDORS)]

    def technician_ids(self) -> list[str]:
        """Every in-house technician's id, active or not, in id order (one paged Query)."""
        return [i["vendor_id"] for i in self._paged(ALL_TECHNICIANS)]

    def _paged(self, pk: str) -> list[dict]:
        query = {"TableName": self.table, "KeyConditionExpression": "PK = :pk",
                 "ExpressionAttributeValues": {":pk": {"S": pk}}}
        items: list[dict] = []
        while True:
            resp = self.db.query(**query)
            items += [self._data(i) for i in resp["Items"]]
            if not resp.get("LastEvaluatedKey"):
                return items
            query["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def put_unit(self, unit: Unit) -> None:
        """The unit and its entry in its property's list of units (moved if the unit changed property; a drill
        unit is not listed)."""
        old = self._get(f"UNIT#{unit.id}", META)
        ops = [{"Put": {"TableName": self.table, "Item": self._item(
                   {"PK": f"UNIT#{unit.id}", "SK": META, "type": "unit", **unit.model_dump(mode="json")})}}]
        if not unit.drill:  # drill units never count
            ops.append({"Put": {"TableName": self.table, "Item": self._item(
                {"PK": units_key(unit.property_id), "SK": f"UNIT#{unit.id}", "unit_id": unit.id})}})
        if old is not None and old.get("property_id") != unit.property_id:
            ops.append({"Delete": {"TableName": self.table,
                                   "Key": self._key(units_key(old["property_id"]), f"UNIT#{unit.id}")}})
        self.db.transact_write_items(TransactItems=ops)

    def unit_ids(self, property_id: str) -> list[str]:
        """The ids of a property's units, in id order (one paged Query of the property's unit list)."""
        return [i["unit_id"] for i in self._paged(units_key(property_id))]

    def put_vendor(self, vendor: Vendor) -> None:
        """The vendor and its index entries; entries of trades, areas or an address it no longer has go."""
        old = self._get(f"VENDOR#{vendor.id}", META)
        keep = vendor_index_keys(vendor)
        ops = [{"Put": {"TableName": self.table, "Item": self._item(
            {"PK": f"VENDOR#{vendor.id}", "SK": META, "type": "vendor", **vendor.model_dump(mode="json")})}}]
        ops += [{"Put": {"TableName": self.table, "Item": self._item({"PK": pk, "SK": sk, "vendor_id": vendor.id})}}
                for pk, sk in sorted(keep)]
        if old is not None:
            stale = vendor_index_keys(Vendor.model_validate(old)) - keep
            ops += [{"Delete": {"TableName": self.table, "Key": self._key(pk, sk)}} for pk, sk in sorted(stale)]
        self.db.transact_write_items(TransactItems=ops)

    def vendors_for_email(self, email: str) -> list[str]:
        return self._ids_under(f"VENDOREMAIL#{email.strip().lower()}", "vendor_id")

    def vendors_insured_until(self, first: date, last: date) -> list[str]:
        """Ids of the active vendors whose insurance expires between first and last (inclusive), by
        expiry date: a Query per month of the insurance index, never a Scan."""
        low, high = expiry_range(first, last)
        ids: list[str] = []
        for month in expiry_months(first, last):
            query = {"TableName": self.table, "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
                     "ExpressionAttributeValues": {":pk": {"S": f"INSURANCE#{month}"}, ":low": {"S": low},
                                                   ":high": {"S": high}}}
            while True:
                resp = self.db.query(**query)
                ids += [self._data(i)["vendor_id"] for i in resp["Items"]]
                if not resp.get("LastEvaluatedKey"):
                    break
                query["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return ids

    def claim_insurance_warning(self, vendor_id: str, expires_on: date, at: str) -> bool:
        """True once per vendor and expiry date: the first caller warns (a renewal is a new date)."""
        pk, sk = insurance_warned_key(vendor_id, expires_on)
        return self._put_first({"PK": pk, "SK": sk, "type": "insurance_warning", "warned_at": at})

    def release_insurance_warning(self, vendor_id: str, expires_on: date) -> None:
        """Undo a claim whose warning could not be sent (the next check tries again)."""
        pk, sk = insurance_warned_key(vendor_id, expires_on)
        self.db.delete_item(TableName=self.table, Key=self._key(pk, sk))

    def get_property(self, prop_id: str) -> Property:
        data = self._get(f"PROPERTY#{prop_id}", META, consistent=False)
        if data is None:
            raise NotFound("No such property.", {"id": prop_id})
        return Property.model_validate(data)

    def get_unit(self, unit_id: str) -> Unit:
        data = self._get(f"UNIT#{unit_id}", META, consistent=False)
        if data is None:
            raise NotFound("No such unit.", {"unit_id": unit_id})
        return Unit.model_validate(data)

    def get_vendor(self, vendor_id: str) -> Vendor:
        data = self._get(f"VENDOR#{vendor_id}", META, consistent=False)
        if data is None:
            raise NotFound("No such vendor.", {"id": vendor_id})
        return Vendor.model_validate(data)

    def vendors_for(self, trade: str, area: str) -> list[Vendor]:
        return self.get_vendors(self._ids_under(f"VENDORS#{trade}#{area}", "vendor_id"))

    def get_vendors(self, ids: list[str]) -> list[Vendor]:
        vendors: list[Vendor] = []
        for start in range(0, len(ids), 100):
            keys = [self._key(f"VENDOR#{i}", META) for i in ids[start:start + 100]]
            request = {self.table: {"Keys": keys}}
            while request:
                resp = self.db.batch_get_item(RequestItems=request)
                vendors += [Vendor.model_validate(self._data(i)) for i in resp["Responses"].get(self.table, [])]
                request = resp.get("UnprocessedKeys") or {}
        return vendors

    def bump_vendor_stat(self, vendor_id: str, stat: str) -> None:
        self.db.update_item(TableName=self.table, Key=self._key(f"VENDOR#{vendor_id}", META),
                            UpdateExpression="SET stats.#s = if_not_exists(stats.#s, :zero) + :one",
                            ExpressionAttributeNames={"#s": stat},
                            ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
                            ConditionExpression="attribute_exists(PK)")

    def find_unit(self, unit_id: str) -> Unit | None:
        try:
            return self.get_unit(unit_id)
        except NotFound:
            return None

    def find_property(self, prop_id: str) -> Property | None:
        try:
            return self.get_property(prop_id)
        except NotFound:
            return None

    def find_vendor(self, vendor_id: str) -> Vendor | None:
        try:
            return self.get_vendor(vendor_id)
        except NotFound:
            return None
