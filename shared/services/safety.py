"""The safety question: when triage is unsure whether a message is an emergency, the tenant is asked.

Triage stores the question on the work order; the workflow parks on it with a task token
(``AskSafetyQuestion``) and the tenant is asked at once, by the channel the request came from, with
YES/NO buttons on the status page. YES makes it an emergency at once; NO keeps triage's priority; no
answer before the ``safety_question`` timer makes it an emergency for the hazard classes the triage
policy names (life safety and water). Every step is in the timeline.
"""

from __future__ import annotations

from typing import Any

from shared.domain.enums import Priority
from shared.domain.errors import InvalidTransition
from shared.domain.workorder import WorkOrder
from shared.services.container import Services
from shared.services.workorders import _entry, _publish, mutate, triage_output


def _policy() -> Any:
    from shared.domain.triage import load_rules

    return load_rules().policy


def _hazard_words(wo: WorkOrder) -> str:
    q = wo.safety_question
    return _policy().hazard_words[q.hazard] if q else "possible emergency"


def ask(svc: Services, wo_id: str, task_token: str) -> None:
    """The workflow parks on the question. If it was answered already (ops corrected it), go on at once."""
    first: list[bool] = []

    def apply(wo: WorkOrder):
        q = wo.safety_question
        if q is None or q.answer is not None or q.task_token == task_token:
            return None
        if q.task_token is None:
            first.append(True)
        entries = [_entry(svc, "safety_question", f"Asked the tenant whether it is an emergency "
                                                  f"({_hazard_words(wo)}); waiting for YES or NO")] if first else []
        return wo.model_copy(update={"safety_question": q.model_copy(update={"task_token": task_token})}), entries

    wo = mutate(svc, wo_id, apply)
    if wo and first:
        assert wo.safety_question is not None
        _publish(svc, "SafetyQuestionAsked", wo, "safety:asked", hazard=wo.safety_question.hazard.value)
        return
    current = svc.repo.get_work_order(wo_id)
    if current.safety_question is None or current.safety_question.answer is not None:
        svc.workflow.resume(task_token, triage_output(svc, current))


def answer(svc: Services, wo_id: str, yes: bool, via: str, actor: str = "tenant") -> WorkOrder:
    """The tenant's YES (an emergency at once) or NO (triage's priority stands)."""
    before: list[WorkOrder] = []

    def apply(wo: WorkOrder):
        q = wo.safety_question
        if q is None or q.answer is not None:
            raise InvalidTransition("There is no safety question waiting for an answer on this request.",
                                    {"status": wo.status.value})
        before[:] = [wo]
        update: dict[str, Any] = {"safety_question": q.model_copy(update={
            "answer": "yes" if yes else "no", "answered_at": svc.clock(), "answered_by": actor})}
        if yes:
            update |= {"priority": Priority.EMERGENCY, "hazard": q.hazard,
                       "emergency_reason": f"{_hazard_words(wo)} (the tenant answered YES)"}
            detail = f"The tenant answered YES by {via}: handled as an emergency now"
        else:
            detail = f"The tenant answered NO by {via}: kept as {wo.priority.value if wo.priority else 'triaged'}"
        return wo.model_copy(update=update), [_entry(svc, "safety_answered", detail, actor=actor)]

    saved = mutate(svc, wo_id, apply)
    assert saved is not None
    token = before[0].safety_question.task_token if before and before[0].safety_question else None
    if token:
        svc.workflow.resume(token, triage_output(svc, saved))
    return saved


def unanswered(svc: Services, wo_id: str) -> dict[str, Any]:
    """The question's timer fired: an emergency for the hazards the policy names, else triage stands."""
    def apply(wo: WorkOrder):
        q = wo.safety_question
        if q is None or q.answer is not None:
            return None
        update: dict[str, Any] = {"safety_question": q.model_copy(update={
            "answer": "no_answer", "answered_at": svc.clock(), "answered_by": "timer"})}
        if q.hazard in _policy().no_answer_is_emergency:
            update |= {"priority": Priority.EMERGENCY, "hazard": q.hazard,
                       "emergency_reason": f"{_hazard_words(wo)} (no answer to the safety question)"}
            detail = "No answer to the safety question in time: handled as an emergency"
        else:
            detail = f"No answer to the safety question in time: kept as {wo.priority.value if wo.priority else '-'}"
        return wo.model_copy(update=update), [_entry(svc, "safety_unanswered", detail)]

    mutate(svc, wo_id, apply)
    return triage_output(svc, svc.repo.get_work_order(wo_id))


def yes_from_text(text: str) -> bool | None:
    """A free-text answer read by triage: True when it describes an emergency, None when unclear."""
    from shared.domain.triage import classify

    return True if classify(text).emergency else None
