"""The safety question: when triage is unsure whether a message is an emergency, the tenant is asked.

Asking never holds the job: triage's urgent or routine decision is dispatched at once, and the question
(in the tenant's language, by the channel the request came in on, never held for quiet hours; with
YES/NO buttons on the status page) runs beside it. YES makes it an emergency at once (on-call paged,
the job re-timed or dispatched again: see :mod:`shared.services.corrections`); NO keeps triage's
priority; no answer before the ``safety_question`` timer (a one-time Scheduler schedule) makes it an
emergency for the hazard classes the triage policy names (life safety and water). Every step is in
the timeline.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.domain.enums import Priority
from shared.domain.errors import InvalidTransition
from shared.domain.workorder import WorkOrder
from shared.observability import count, logger
from shared.services.container import Services
from shared.services.corrections import retriage
from shared.services.writes import Edit, entry, mutate


def _policy() -> Any:
    from shared.domain.triage import load_rules  # cold start: the triage rules load only when asked

    return load_rules().policy


def _hazard_words(wo: WorkOrder) -> str:
    q = wo.safety_question
    return _policy().hazard_words[q.hazard] if q else "possible emergency"


def plan_timer(svc: Services, wo_id: str) -> bool:
    """The no-answer timer (SafetyQuestionAsked -> the timers queue). False when already answered."""
    wo = svc.repo.get_work_order(wo_id)
    if not wo.asking_safety or wo.safety_question is None or wo.priority is None:
        return False
    at = wo.safety_question.asked_at + timedelta(seconds=svc.settings.timeouts.stages["safety_question"][wo.priority])
    svc.schedules().put(f"{wo.id}-safety", at, {"action": "safety_unanswered", "work_order_id": wo.id})
    return True


def answer(svc: Services, wo_id: str, yes: bool, via: str, actor: str = "tenant") -> WorkOrder:
    """The tenant's YES (an emergency at once) or NO (triage's priority stands)."""
    def apply(wo: WorkOrder) -> Edit[str]:
        """Result: the hazard in words, for the correction's reason."""
        q = wo.safety_question
        if q is None or not wo.asking_safety:  # answered already, or the work is done (a stale page or text)
            raise InvalidTransition("There is no safety question waiting for an answer on this request.",
                                    {"status": wo.status.value})
        kept = wo.priority.value if wo.priority else "triaged"
        detail = (f"The tenant answered YES by {via}: handled as an emergency now" if yes
                  else f"The tenant answered NO by {via}: kept as {kept}")
        return Edit(wo.model_copy(update={"safety_question": q.model_copy(update={
            "answer": "yes" if yes else "no", "answered_at": svc.clock(), "answered_by": actor})}),
            [entry(svc, "safety_answered", detail, actor=actor)], result=_hazard_words(wo))

    change = mutate(svc, wo_id, apply)
    saved = change.after
    assert saved is not None
    count("SafetyAnsweredYes" if yes else "SafetyAnsweredNo")
    if yes and saved.priority is not Priority.EMERGENCY and saved.trade is not None:
        return retriage(svc, wo_id, saved.trade, Priority.EMERGENCY, f"{change.result} (the tenant answered YES)",
                        actor=actor, event="safety_raised", keep_example=False).work_order
    return saved


def unanswered(svc: Services, wo_id: str) -> str:
    """The question's timer fired: an emergency for the hazards the policy names, else triage stands."""
    def apply(wo: WorkOrder) -> Edit[bool] | None:
        """Result: whether the silence makes it an emergency."""
        q = wo.safety_question
        if q is None or q.answer is not None:
            return None
        emergency = q.hazard in _policy().no_answer_is_emergency and wo.priority is not Priority.EMERGENCY
        detail = ("No answer to the safety question in time: handled as an emergency" if emergency else
                  f"No answer to the safety question in time: kept as {wo.priority.value if wo.priority else '-'}")
        return Edit(wo.model_copy(update={"safety_question": q.model_copy(update={
            "answer": "no_answer", "answered_at": svc.clock(), "answered_by": "timer"})}),
            [entry(svc, "safety_unanswered", detail)], result=emergency)

    change = mutate(svc, wo_id, apply)
    saved = change.after
    if saved is None:
        return "answered"
    count("SafetyUnanswered")
    if change.result and saved.trade is not None and saved.status.value not in ("cancelled", "closed"):
        try:
            retriage(svc, wo_id, saved.trade, Priority.EMERGENCY,
                     f"{_hazard_words(saved)} (no answer to the safety question)", actor="timer",
                     event="safety_raised", keep_example=False)
        except InvalidTransition:
            logger.info("safety timer: the job is no longer open", extra={"work_order_id": wo_id})
            return "closed"
        return "emergency"
    return "kept"


def describes_an_emergency(text: str) -> bool:
    """Free text sent while a safety question is open counts as YES when triage reads it as an emergency."""
    from shared.domain.triage import classify  # cold start: see _policy

    return classify(text).emergency
