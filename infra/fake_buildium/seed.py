"""The demo portfolio (infra/demo.py) as a Buildium account would hold it: spec-shaped records, integer ids.

Ids are fixed numbers derived from the demo's order, so a test (or a person) can rely on them across runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from infra import demo
from shared.domain.enums import Trade

Record = dict[str, Any]

# The two demo service areas need addresses a mapping can tell apart: same city, distinct postal codes.
SERVICE_AREA_POSTAL_CODES = {"north": "62702", "south": "62704"}
STATE, COUNTRY = "IL", "UnitedStates"
SEED_TIME = "2026-01-05T09:00:00Z"  # CreatedDateTime / LastUpdatedDateTime of every seeded record
LEASE_FROM, LEASE_TO = "2026-01-01", "2026-12-31"
MANAGER = {"Id": 7001, "FirstName": "Morgan", "LastName": "Reyes", "CompanyName": None, "IsCompany": False,
           "ProfilePhotoUrl": None, "Email": "morgan.reyes@opslayer-pm.example.com",
           "PhoneNumbers": [{"Number": "+15550100050", "Type": "Office"}]}

# (id, name, gl account id): names a real account uses. Buildium always has the system "Uncategorized" one.
VENDOR_CATEGORIES: list[tuple[int, str, bool]] = [
    (10, "Uncategorized", True), (11, "Plumbing", False), (12, "Electrical", False),
    (13, "Heating & Cooling (HVAC)", False), (14, "Appliance Repair", False), (15, "Locksmith", False),
    (16, "General Maintenance", False), (17, "Pest Control", False), (18, "Roofing", False),
    (19, "Elevator Service", False), (20, "Glass & Doors", False), (21, "Structural & Exterior", False),
    (22, "Fire & Life Safety", False),
]
TRADE_CATEGORY = {Trade.PLUMBING: 11, Trade.ELECTRICAL: 12, Trade.HVAC: 13, Trade.APPLIANCE: 14,
                  Trade.LOCKSMITH: 15, Trade.GENERAL: 16, Trade.PEST: 17, Trade.ROOFING: 18,
                  Trade.ELEVATOR: 19, Trade.GLAZING_DOORS: 20, Trade.STRUCTURAL: 21, Trade.FIRE_SAFETY: 22}

# A small chart of accounts: (id, number, name, type, subtype, parent id, default account name, is bank).
GL_ACCOUNTS: list[tuple[int, str, str, str, str, int | None, str | None, bool]] = [
    (9001, "1000", "Operating Cash", "Asset", "CurrentAsset", None, None, True),
    (9002, "1100", "Accounts Receivable", "Asset", "CurrentAsset", None, "Accounts Receivable", False),
    (9003, "2000", "Accounts Payable", "Liability", "CurrentLiability", None, "Accounts Payable", False),
    (9004, "2100", "Security Deposit Liability", "Liability", "CurrentLiability", None, None, False),
    (9005, "4000", "Rent Income", "Income", "Income", None, "Rent Income", False),
    (9006, "4100", "Late Fee Income", "Income", "Income", None, None, False),
    (9010, "6000", "Repairs & Maintenance", "Expense", "OperatingExpenses", None, None, False),
    (9011, "6010", "Plumbing Repairs", "Expense", "OperatingExpenses", 9010, None, False),
    (9012, "6020", "Electrical Repairs", "Expense", "OperatingExpenses", 9010, None, False),
    (9013, "6030", "HVAC Repairs", "Expense", "OperatingExpenses", 9010, None, False),
    (9014, "6040", "Appliance Repairs", "Expense", "OperatingExpenses", 9010, None, False),
    (9015, "6050", "Locks & Keys", "Expense", "OperatingExpenses", 9010, None, False),
    (9016, "6060", "General Maintenance", "Expense", "OperatingExpenses", 9010, None, False),
    (9017, "6070", "Pest Control", "Expense", "OperatingExpenses", 9010, None, False),
    (9018, "6080", "Roof Repairs", "Expense", "OperatingExpenses", 9010, None, False),
    (9019, "6090", "Elevator Service", "Expense", "OperatingExpenses", 9010, None, False),
    (9022, "6100", "Glass & Doors", "Expense", "OperatingExpenses", 9010, None, False),
    (9023, "6110", "Structural & Exterior Repairs", "Expense", "OperatingExpenses", 9010, None, False),
    (9024, "6120", "Fire & Life Safety", "Expense", "OperatingExpenses", 9010, None, False),
    (9020, "6500", "Utilities", "Expense", "OperatingExpenses", None, None, False),
    (9021, "6700", "Management Fees", "Expense", "OperatingExpenses", None, None, False),
]
CATEGORY_GL_ACCOUNT = {11: 9011, 12: 9012, 13: 9013, 14: 9014, 15: 9015, 16: 9016, 17: 9017, 18: 9018,
                       19: 9019, 20: 9022, 21: 9023, 22: 9024}

PROPERTY_IDS = {"prop-maple": 101, "prop-harbor": 102}
PROPERTY_STREETS = {"prop-maple": "120 Maple Ave", "prop-harbor": "8 Harbor St"}
VENDOR_STREETS = {  # the demo has no vendor addresses: invented, in the vendor's (first) service area
    "ven-aqua": "14 Elm St", "ven-pipeline": "300 Center Rd", "ven-volt": "77 Depot St", "ven-breeze": "5 Mill Ln",
    "ven-appliance": "410 Commerce Dr", "ven-keys": "9 Main St", "ven-handy": "62 Oak St",
    "ven-southflow": "18 Bay Rd", "ven-summit": "2 Tower Ct", "ven-clearview": "51 Glass Ave",
    "ven-keystone": "800 Quarry Rd", "ven-firewatch": "33 Station St",
}
# Buildium allows one category per vendor; the demo's two-trade vendors get their main trade (the first).
MAIN_TRADE_NOTE = {"ven-pipeline": "also roofing", "ven-handy": "also pest control", "ven-keystone": "also roofing"}


@dataclass
class Seed:
    """Everything `FakeBuildium.from_demo()` loads, keyed by Buildium id, plus demo id -> Buildium id."""

    rentals: dict[int, Record] = field(default_factory=dict)
    units: dict[int, Record] = field(default_factory=dict)
    tenants: dict[int, Record] = field(default_factory=dict)
    leases: dict[int, Record] = field(default_factory=dict)
    vendor_categories: dict[int, Record] = field(default_factory=dict)
    vendors: dict[int, Record] = field(default_factory=dict)
    gl_accounts: dict[int, Record] = field(default_factory=dict)
    ids: dict[str, dict[str, int]] = field(default_factory=dict)


def address(street: str, area: str, line2: str | None = None) -> Record:
    return {"AddressLine1": street, "AddressLine2": line2, "AddressLine3": None, "City": "Springfield",
            "State": STATE, "PostalCode": SERVICE_AREA_POSTAL_CODES[area], "Country": COUNTRY}


def build() -> Seed:
    seed = Seed(ids={"property": {}, "unit": {}, "tenant": {}, "lease": {}, "vendor": {}, "vendor_category": {},
                     "gl_account": {}})
    for prop in demo.PROPERTIES:
        pid = PROPERTY_IDS[prop.id]
        seed.ids["property"][prop.id] = pid
        seed.rentals[pid] = {
            "Id": pid, "Name": prop.name, "StructureDescription": None, "IsActive": True,
            "OperatingBankAccountId": 1, "Reserve": 2500.0, "Address": address(PROPERTY_STREETS[prop.id],
                                                                               prop.service_area),
            "YearBuilt": 1998 if pid == 101 else 2012, "RentalType": "Residential", "RentalSubType": "MultiFamily",
            "RentalManager": MANAGER, "_area": prop.service_area}
    areas = {p.id: p.service_area for p in demo.PROPERTIES}
    for n, unit in enumerate(demo.UNITS):
        uid, tid, lid = 1001 + n, 2001 + n, 3001 + n
        pid = PROPERTY_IDS[unit.property_id]
        unit_address = address(PROPERTY_STREETS[unit.property_id], areas[unit.property_id], f"Unit {unit.label}")
        seed.ids["unit"][unit.id] = uid
        seed.units[uid] = {
            "Id": uid, "PropertyId": pid, "BuildingName": None, "UnitNumber": unit.label,
            "Description": unit.access_instructions, "MarketRent": 1450.0 + 50 * (n % 4), "Address": unit_address,
            "UnitBedrooms": "TwoBed" if n % 2 else "OneBed", "UnitBathrooms": "OneBath", "UnitSize": 780 + 40 * (n % 3),
            "IsUnitListed": False, "IsUnitOccupied": True, "_updated": SEED_TIME}
        if unit.tenant is None:
            continue
        first, _, last = unit.tenant.name.partition(" ")
        tenant_key = f"tenant-{unit.id.removeprefix('unit-')}"
        seed.ids["tenant"][tenant_key] = tid
        seed.tenants[tid] = {
            "Id": tid, "FirstName": first, "LastName": last, "Email": unit.tenant.email, "AlternateEmail": None,
            "PhoneNumbers": [{"Number": unit.tenant.phone, "Type": "Cell"}] if unit.tenant.phone else [],
            "CreatedDateTime": SEED_TIME, "DateOfBirth": None, "SMSOptInStatus": "OptedIn",
            "Address": unit_address, "MailingPreference": "PrimaryAddress", "Comment": None, "TaxId": None,
            "_updated": SEED_TIME}
        seed.ids["lease"][f"lease-{unit.id.removeprefix('unit-')}"] = lid
        seed.leases[lid] = {
            "Id": lid, "PropertyId": pid, "UnitId": uid, "UnitNumber": unit.label, "LeaseFromDate": LEASE_FROM,
            "LeaseToDate": LEASE_TO, "LeaseType": "FixedWithRollover", "LeaseStatus": "Active",
            "IsEvictionPending": False, "TermType": "Standard", "RenewalOfferStatus": "NotSet",
            "CurrentNumberOfOccupants": 1, "AccountDetails": {"SecurityDeposit": 1500.0, "Rent": 1450.0},
            "Cosigners": [], "AutomaticallyMoveOutTenants": False, "CreatedDateTime": SEED_TIME,
            "LastUpdatedDateTime": SEED_TIME, "MoveOutData": [], "PaymentDueDay": 1, "_tenant_ids": [tid],
            "_move_in": LEASE_FROM}
    for cid, name, system in VENDOR_CATEGORIES:
        seed.vendor_categories[cid] = {"Id": cid, "Name": name, "IsSystemCategory": system}
        seed.ids["vendor_category"][name] = cid
    for number, (gid, acct, name, kind, subtype, parent, default, bank) in enumerate(GL_ACCOUNTS):
        seed.gl_accounts[gid] = {
            "Id": gid, "AccountNumber": acct, "Name": name, "Description": None, "Type": kind, "SubType": subtype,
            "IsDefaultGLAccount": default is not None, "DefaultAccountName": default, "IsContraAccount": False,
            "IsBankAccount": bank, "CashFlowClassification": "OperatingActivities" if kind != "Asset" else None,
            "ExcludeFromCashBalances": False, "IsActive": True, "ParentGLAccountId": parent, "_order": number}
        seed.ids["gl_account"][acct] = gid
    for n, vendor in enumerate(demo.VENDORS):
        vid = 4001 + n
        cover = demo.insurance(f"GL-{vid}", date.today())  # the demo's clock is the real one
        cid = TRADE_CATEGORY[vendor.trades[0]]
        seed.ids["vendor"][vendor.id] = vid
        seed.vendors[vid] = {
            "Id": vid, "IsCompany": True, "IsActive": vendor.active, "FirstName": None, "LastName": None,
            "PrimaryEmail": vendor.email, "AlternateEmail": None, "CompanyName": vendor.name,
            "PhoneNumbers": [{"Number": vendor.phone, "Type": "Office"}] if vendor.phone else [],
            "Website": None, "_category_id": cid,
            "Address": address(VENDOR_STREETS[vendor.id], vendor.service_areas[0]),
            "VendorInsurance": {"Provider": cover.provider, "PolicyNumber": cover.policy_number,
                                "ExpirationDate": f"{cover.expires_on}T00:00:00Z"},
            "Comments": f"Service areas: {', '.join(vendor.service_areas)}"
            + (f"; {MAIN_TRADE_NOTE[vendor.id]}" if vendor.id in MAIN_TRADE_NOTE else ""),
            "AccountNumber": None, "ExpenseGLAccountId": CATEGORY_GL_ACCOUNT[cid], "_updated": SEED_TIME}
    return seed
