"""The on-call chain for an emergency (rules: shared/domain/oncall.py).

An emergency starts the chain (the notification consumer, on EmergencyDeclared): the property's rota (else
the portfolio's, else an old single on-call contact) is kept on the work order as its `page`, level 0 is
paged by SMS and email - never held for quiet hours - with an acknowledge link and "reply ACK", and a
one-time Scheduler schedule checks at the ack-by time (the visit-timers function runs the check). No
acknowledgement by then pages the next level (OnCallPaged -> the notification consumer sends it); after
the last level the chain is exhausted: the OnCallExhausted alarm (a metric), a timeline entry and an ops
alert (OnCallExhausted -> the notification consumer). An acknowledgement (the link's button, or ACK by SMS
from a paged phone) records when and who, and stops the chain - also after it moved on.

Idempotent throughout: the chain starts once per work order, a check acts only on the level it was set
for and only once, a second acknowledgement changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.domain import links, oncall
from shared.domain.directory import Contact, Property
from shared.domain.enums import Priority
from shared.domain.errors import InvalidTransition, NotFound
from shared.domain.oncall import OnCallRota, Page
from shared.domain.setup import SINGLETON
from shared.domain.workorder import MONEY_STATUSES, Status, TimelineEntry, WorkOrder
from shared.observability import count, logger, stage_metric
from shared.services.container import Services
from shared.services.views import View
from shared.services.writes import Edit, entry, mutate, publish

ROTAS = "on_call_rotas"  # CONFIG item: property id, or PORTFOLIO, -> rota (written by /ops/config/on-call-rotas)
PORTFOLIO = SINGLETON  # "default": the portfolio's rota, for properties without their own
CHECK_ACTION = "oncall_check"  # the ack-by schedule's payload action (functions/visit_timers.py)
# The chain stops when the repair is over or cancelled; an escalated emergency (no vendor) keeps paging.
OVER = MONEY_STATUSES | {Status.CANCELLED}


# ---------------------------------------------------------------- the rota
def rota_for(svc: Services, prop: Property) -> OnCallRota:
    rotas = svc.repo.get_config(ROTAS) or {}
    portfolio_contact = svc.repo.get_config("on_call")
    return oncall.rota_for(_rota(rotas.get(prop.id)), _rota(rotas.get(PORTFOLIO)), prop.on_call,
                           Contact.model_validate(portfolio_contact) if portfolio_contact else None)


def _rota(value: dict[str, Any] | None) -> OnCallRota | None:
    return OnCallRota.model_validate(value) if value else None


# ---------------------------------------------------------------- start, check
def start_chain(svc: Services, wo_id: str) -> WorkOrder:
    """Start the chain once (a replay finds it started). Returns the work order; the caller sends the page of
    `page.level` (the notification consumer: level 0 right away). A rota without levels is exhausted at once."""
    def apply(wo: WorkOrder) -> Edit[None] | None:
        if wo.page is not None or wo.priority is not Priority.EMERGENCY:
            return None
        page = oncall.start(rota_for(svc, svc.repo.get_property(wo.property_id)), svc.clock())
        return Edit(wo.model_copy(update={"page": page}), [_paged_entry(svc, page) if page.running else entry(
            svc, "oncall_exhausted", "Nobody is on call for this property (no rota, no on-call contact): ops alerted")])

    change = mutate(svc, wo_id, apply)
    wo = change.after or change.before
    if wo.page is None:
        return wo  # not an emergency: nobody is paged
    if change.after is not None and not wo.page.running:
        _exhausted(svc, wo)
    elif wo.page.running and wo.page.level == 0:  # also on a replay: the same schedule and index (idempotent)
        _arm(svc, wo, wo.page)
        if change.after is not None:
            count("OnCallPaged")  # the next levels' pages are counted as their OnCallPaged event is published
    return wo


def check(svc: Services, wo_id: str, level: int) -> str:
    """The ack-by schedule of `level` fired: "next" (the next level paged), "exhausted", or "nothing" (it was
    acknowledged, the chain already moved on - a duplicate check - or the work order is closed)."""
    def apply(wo: WorkOrder) -> Edit[str] | None:
        if wo.page is None or wo.status in OVER:
            return None
        stepped = oncall.advance(wo.page, level, svc.clock())
        if stepped is None:
            return None
        page, step = stepped
        missed = wo.page.levels[level]
        why = f"No acknowledgement from {missed.contact.name} ({missed.label}) within {missed.ack_within_minutes} min"
        if step == "next":
            return Edit(wo.model_copy(update={"page": page}), [_paged_entry(svc, page, why)], result=step)
        return Edit(wo.model_copy(update={"page": page}), [entry(
            svc, "oncall_exhausted", f"{why}: every level of the on-call rota was paged, nobody acknowledged; "
            "ops alerted")], result=step)

    change = mutate(svc, wo_id, apply)
    wo, step = change.after, change.result
    if wo is None or wo.page is None or step is None:
        return "nothing"
    if step == "next":
        _arm(svc, wo, wo.page)
        publish(svc, "OnCallPaged", wo, f"oncall:{wo.page.level}", level=wo.page.level)
    else:
        _exhausted(svc, wo)
    return step


def _paged_entry(svc: Services, page: Page, why: str = "") -> TimelineEntry:
    level = page.levels[page.level]
    detail = (f"Paged {level.contact.name} ({level.label}, level {page.level + 1} of {len(page.levels)}) by SMS and "
              f"email: acknowledge within {level.ack_within_minutes} min")
    return entry(svc, "oncall_paged", f"{why}: {detail}" if why else detail)


def _arm(svc: Services, wo: WorkOrder, page: Page) -> None:
    """The paged phone points at this work order (ACK by SMS, no Scan) and the ack-by check is scheduled."""
    level = page.levels[page.level]
    assert page.due_at is not None
    if level.contact.phone:
        svc.repo.put_record(_phone_key(level.contact.phone), "PAGE",
                            {"work_order_id": wo.id, "level": page.level, "paged_at": svc.clock().isoformat()})
    svc.schedules().put(f"{wo.id}-oncall-{page.level}", page.due_at,
                        {"action": CHECK_ACTION, "work_order_id": wo.id, "level": page.level})
    logger.info("on-call paged", extra={"work_order_id": wo.id, "level": page.level})


def _exhausted(svc: Services, wo: WorkOrder) -> None:
    """The alarm (OnCallExhausted: a metric the template alarms on) and the ops alert (the event's message)."""
    publish(svc, "OnCallExhausted", wo, "oncall:exhausted", levels=len(wo.page.levels) if wo.page else 0)
    logger.warning("on-call chain exhausted", extra={"work_order_id": wo.id})


def _phone_key(phone: str) -> str:
    return f"ONCALL#{phone}"


# ---------------------------------------------------------------- acknowledge
def acknowledge(svc: Services, wo_id: str, level: int, via: str) -> WorkOrder:
    """Level `level`'s contact acknowledged: recorded once (a second ACK changes nothing), and the chain stops
    (a pending check finds it acknowledged). Refused only when the work order was never paged."""
    def apply(wo: WorkOrder) -> Edit[None] | None:
        if wo.page is None:
            raise InvalidTransition("Nobody was paged for this request.", {"status": wo.status.value})
        page = oncall.acknowledge(wo.page, level, svc.clock(), via)
        if page is None:
            return None
        after = page.acknowledged_after_s or 0
        late = " (after the page had moved on)" if level < wo.page.level or not wo.page.running else ""
        return Edit(wo.model_copy(update={"page": page}), [entry(
            svc, "oncall_acknowledged", f"{page.acked_by} acknowledged the page by {via}{late}, "
            f"{after // 60} min {after % 60} s after the first page", actor=f"oncall:{level}")])

    change = mutate(svc, wo_id, apply)
    if change.after is not None:
        count("OnCallAcknowledged")
        ack_s = change.after.page.acknowledged_after_s if change.after.page else None
        if ack_s is not None and not change.after.drill:  # the dashboard's emergency ack time
            stage_metric("OnCallAckSeconds", ack_s, "Seconds", details={"work_order_id": wo_id})
        logger.info("on-call acknowledged", extra={"work_order_id": wo_id, "level": level, "via": via})
    return change.after or change.before


def ack_link(svc: Services, wo: WorkOrder, level: int, base_url: str) -> str:
    """The paged person's link: GET shows the emergency and a button; only the POST acknowledges (a link
    preview or a scanner that opens the link acknowledges nothing)."""
    token = svc.link_tokens().issue(wo.id, "oncall", str(level), oncall.ACK_LINK_TTL)
    return f"{base_url}/oncall/{token}"


class PageView(View):
    """What the person paged for an emergency sees: the acknowledge page, and the JSON GET /oncall/{token} answers."""

    work_order_id: str
    property: str
    address: str
    unit: str
    emergency: str
    description: str
    paged: str  # who this link paged: name (label)
    acknowledged: bool
    acknowledged_by: str | None
    acknowledged_at: str | None
    allowed_actions: list[str]
    language: str  # the paged person's ("en" or "es")


def _link_scope(svc: Services, token: str, action: str) -> tuple[links.LinkScope, int]:
    scope = svc.link_tokens().verify(token)
    links.require(scope, None, "oncall", action)
    return scope, int(scope.party_id)


def page_view(svc: Services, token: str) -> PageView:
    scope, level = _link_scope(svc, token, "view")
    wo = svc.repo.get_work_order(scope.work_order_id)
    prop, unit = svc.repo.get_property(wo.property_id), svc.repo.get_unit(wo.unit_id)
    page = wo.page
    if page is None or level >= len(page.levels):
        raise links.invalid()
    who = page.levels[level]
    return PageView(work_order_id=wo.id, property=prop.name, address=prop.address, unit=unit.label,
                    emergency=wo.emergency_reason or "emergency", description=wo.description,
                    paged=f"{who.contact.name} ({who.label})", acknowledged=page.acknowledged,
                    acknowledged_by=page.acked_by, acknowledged_at=page.acked_at.isoformat() if page.acked_at else None,
                    allowed_actions=[] if page.acknowledged else ["acknowledge"],
                    language=who.contact.language if who.contact.language in ("en", "es") else "en")


def acknowledge_by_link(svc: Services, token: str) -> WorkOrder:
    scope, level = _link_scope(svc, token, "acknowledge")
    return acknowledge(svc, scope.work_order_id, level, "link")


@dataclass(frozen=True)
class SmsAck:
    """An ACK by SMS that matched a page: the work order and the paged person's language for the reply."""

    work_order: WorkOrder
    level: int  # the level of the phone that sent it
    language: str | None

    @property
    def theirs(self) -> bool:
        """This phone's level is the one recorded (False: someone else had acknowledged first)."""
        page = self.work_order.page
        return page is not None and page.acked_level == self.level


def acknowledge_by_sms(svc: Services, phone: str, reference: str | None) -> SmsAck | None:
    """ACK from a phone: the work order it names, else the latest page to this phone (one GetItem, no Scan).
    None when this phone was not paged for it (the text is then handled as any other)."""
    wo_id = reference or (svc.repo.get_record(_phone_key(phone), "PAGE") or {}).get("work_order_id")
    if not wo_id:
        return None
    try:
        wo = svc.repo.get_work_order(wo_id)
    except NotFound:
        return None
    level = oncall.paged_level_of_phone(wo.page, phone) if wo.page else None
    if wo.page is None or level is None:
        return None
    return SmsAck(acknowledge(svc, wo.id, level, "sms"), level, wo.page.levels[level].contact.language)
