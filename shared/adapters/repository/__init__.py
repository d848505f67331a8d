"""DynamoDB single-table repository: one class per kind of record (work_orders, directory, invoices,
links, pms_links, channels, setups, surveys, rollups) over a shared `Table`; `Repository` is all of them.

Access patterns (no Scan anywhere):
  work order + timeline       PK=WO#<id>                SK=WO | TL#<at>#<n>
  its PMS sync state          PK=WO#<id>                SK=PMS   (kept apart: PMS writes never race lifecycle writes)
  work orders by status       GSI1 PK=STATUS#<status>   SK=<created_at>#<id>   (keys only, then BatchGetItem)
  work orders by property     GSI2 PK=PROPERTY#<id>     SK=<created_at>#<id>   (keys only, then BatchGetItem)
  property / unit / vendor    PK=PROPERTY#<id> | UNIT#<id> | VENDOR#<id>   SK=META
  units of a property         PK=UNITS#<property id>    SK=UNIT#<id>   (adjacency list; cost per unit)
  vendors by trade and area   PK=VENDORS#<trade>#<area> SK=VENDOR#<id>   (adjacency list)
  vendors by email address    PK=VENDOREMAIL#<email>    SK=VENDOR#<id>   (inbound email invoices)
  idempotency records         PK=IDEM#<scope>#<key>     SK=IDEM   (TTL)
  a person's work orders      PK=PERSON#<hash>          SK=WO#<id>   (the tenant's phone / email, hashed; erasure)
  a unit's last completed job PK=RECALL#<unit id>       SK=<trade>   (work order id, completed at: recalls)
  dedupe markers              PK=WO#<id>                SK=TL#ONCE#<key>   (the side effect's timeline entry)
  link tokens                 PK=LINK#<hmac of token>   SK=LINK   (scope; TTL after the renewal grace)
  configuration               PK=CONFIG                 SK=<name>
  versioned setup + history   PK=SETUP#<kind> | SETUPLOG#<kind>#<id>   SK=<id> | V#<version>   (/ops/config)
  every vendor / property     PK=ALL#VENDOR | ALL#PROPERTY   SK=VENDOR#<id> | PROPERTY#<id>
  PMS links and event order   PK=PMS#<kind>#<pms id>    SK=LINK   (opslayer id, last applied event time)
  GL accounts from the PMS    PK=GLACCOUNTS             SK=<pms id>
  sensors and assets          PK=SENSOR#<id> | ASSETS   SK=META | <asset id>
  invoices of a work order    PK=WO#<id>                SK=INV#<invoice id>   (versioned like work orders)
  a vendor's invoice numbers  PK=VINV#<vendor id>       SK=<number, lower case> (duplicate check)
  unmatched invoices          PK=INVOICE_EXCEPTIONS     SK=<exception id>     (ops queue)
  tenant phone / email        PK=PHONE#<e164> | EMAIL#<address>   SK=UNIT#<unit id>   (inbound SMS / email)
  a paged on-call phone       PK=ONCALL#<e164>          SK=PAGE   (its latest emergency page: ACK by SMS)
  drill sink                  PK=DRILLSINK              SK=<sent at>#<message id>   (TTL; the fire drill's messages)
  tenants due an NPS question PK=NPSDUE#<quarter>       SK=<tenant key>   (written when a job is verified)
  a tenant's surveys          PK=SURVEY#<tenant key>    SK=NPS#<quarter> | LAST   (surveys.py)
  an owner report sent        PK=OWNERREPORT#<property> SK=<yyyy-mm>   (the monthly email, once)
  KPI rollup of a day         PK=ROLLUP#<yyyy-mm>       SK=<day>|<property>|<trade>|<priority>|<vendor>  (counters)
  a work order's KPI facts    PK=KPIWO#<id>             SK=FACTS  (its contribution to the rollups; versioned)
  status page views counted   PK=KPIWO#<id>             SK=VIEWS  (n, last counted hour: one a work order and hour)
Every work-order write is conditional on its version, so replays and races cannot corrupt it.
"""

from __future__ import annotations

from shared.adapters.repository.channels import Channels
from shared.adapters.repository.directory import Directory
from shared.adapters.repository.invoices import Invoices
from shared.adapters.repository.links import Links
from shared.adapters.repository.pms_links import PmsLinks
from shared.adapters.repository.rollups import Rollups
from shared.adapters.repository.setups import Setups
from shared.adapters.repository.surveys import Surveys
from shared.adapters.repository.table import Table
from shared.adapters.repository.work_orders import WorkOrders


class Repository(WorkOrders, Directory, Invoices, Links, PmsLinks, Channels, Setups, Surveys, Rollups):
    """Every kind of record over one table: `Repository(table_name)`, as callers have always built it."""


__all__ = ["Channels", "Directory", "Invoices", "Links", "PmsLinks", "Repository", "Rollups", "Setups", "Surveys",
           "Table", "WorkOrders"]
