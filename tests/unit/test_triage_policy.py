"""Emergencies by hazard class, the qualifiers (stopped, contained, spreading, vulnerable), and the
safety-first combination of the rules with the learned model (a stub model here, so each rule of the
policy is shown on its own)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from shared.domain.enums import Hazard, Priority, Trade
from shared.domain.triage import classify, classify_rules, load_rules
from shared.domain.triage_model import Opinion


def test_every_emergency_rule_names_its_hazard_and_the_policy_is_data():
    rules = load_rules()
    assert all(r.hazard not in (None, Hazard.NONE) for r in rules.rules if r.priority is Priority.EMERGENCY)
    assert set(rules.policy.no_answer_is_emergency) == {Hazard.LIFE_SAFETY, Hazard.WATER}
    assert rules.policy.ask_probability < rules.policy.emergency_probability


@pytest.mark.parametrize(("text", "hazard"), [
    ("Somebody is trapped in the elevator, it stopped between floors", Hazard.LIFE_SAFETY),
    ("bricks are falling off the facade onto the sidewalk", Hazard.LIFE_SAFETY),
    ("I smell gas in the kitchen", Hazard.LIFE_SAFETY),
    ("the front door of the building won't latch anymore, anyone can walk in", Hazard.SECURITY),
    ("a pipe burst under the sink", Hazard.WATER),
    ("sprinkler head broke and is spraying water", Hazard.WATER),
    ("no heat and it is 20 degrees outside", Hazard.ESSENTIAL_SERVICE),
])
def test_hazard_classes(text, hazard):
    r = classify_rules(text)
    assert (r.priority, r.hazard) == (Priority.EMERGENCY, hazard), r.matched_rules


@pytest.mark.parametrize("text", [
    "there was a burning smell for 20 minutes when the heat came on, then it went away",
    "the pipe under the sink was leaking last night but it stopped, it's dry now",
    "olía a gas en la cocina pero ya se fue el olor",
])
def test_a_stopped_hazard_is_asked_about_not_declared(text):
    r = classify_rules(text)
    assert r.priority is not Priority.EMERGENCY and r.ask and r.hazard is not Hazard.NONE, r.matched_rules


def test_contained_water_is_urgent_and_spreading_water_is_an_emergency():
    contained = classify_rules("small leak under the sink, dripping into a bucket, not growing")
    assert contained.priority is Priority.URGENT and not contained.emergency
    spreading = classify_rules("the small leak under the sink is now spreading across the floor into the hallway")
    assert spreading.priority is Priority.EMERGENCY and spreading.hazard is Hazard.WATER
    assert "spreading" in (spreading.emergency_reason or "")


def test_a_vulnerable_occupant_raises_an_urgent_hazard():
    plain = classify_rules("the heat is weak, the bedrooms barely get warm")
    assert plain.priority is Priority.URGENT and not plain.vulnerable
    raised = classify_rules("the heat is weak, the bedrooms barely get warm and we have a newborn baby")
    assert raised.priority is Priority.EMERGENCY and raised.vulnerable
    assert raised.hazard is Hazard.ESSENTIAL_SERVICE and "vulnerable" in (raised.emergency_reason or "")
    spanish = classify_rules("la calefacción casi no calienta y mi abuela de 90 años tiene frío")
    assert spanish.priority is Priority.EMERGENCY and spanish.vulnerable


@dataclass
class StubModel:
    """The model's port with fixed answers: only the policy is under test."""

    emergency: float
    trade: str = "plumbing"
    trade_probability: float = 0.9
    urgent: float | None = None

    def predict(self, text: str, rules_fired: Sequence[str] = ()) -> Opinion:
        rest = 1.0 - self.emergency
        urgent = rest / 2 if self.urgent is None else self.urgent
        others = (1 - self.trade_probability) / (len(Trade) - 1)
        return Opinion(priority={"emergency": self.emergency, "urgent": urgent, "routine": rest - urgent},
                       trade={t.value: (self.trade_probability if t.value == self.trade else others) for t in Trade},
                       # The hazard head agrees with the priority head: the same probability of some hazard.
                       hazard={"water": 0.7 * self.emergency, "life_safety": 0.1 * self.emergency,
                               "security": 0.1 * self.emergency, "essential_service": 0.1 * self.emergency,
                               "none": rest},
                       model_version="stub")


def test_the_model_declares_an_emergency_the_rules_missed():
    policy = load_rules().policy
    r = classify("the kitchen is wet", model=StubModel(emergency=policy.emergency_probability + 0.01))
    assert r.emergency and r.hazard is Hazard.WATER and r.emergency_reason and not r.ask
    assert r.opinions["model_version"] == "stub"


def test_the_uncertain_band_asks_and_dispatches_as_urgent_or_routine():
    policy = load_rules().policy
    middle = (policy.ask_probability + policy.emergency_probability) / 2
    r = classify("the kitchen is wet", model=StubModel(emergency=middle, urgent=0.5))
    assert r.ask and r.priority is Priority.URGENT and r.hazard is Hazard.WATER and r.emergency_reason is None
    low = classify("the kitchen is wet", model=StubModel(emergency=policy.ask_probability / 2, urgent=0.1))
    assert not low.ask and low.priority is Priority.ROUTINE and low.hazard is Hazard.NONE


def test_urgent_when_its_share_of_urgent_and_routine_reaches_the_policy():
    policy = load_rules().policy
    rest = 1 - policy.ask_probability / 2  # not an emergency, not asked: urgent or routine is all that is left
    share = policy.urgent_share
    calm = policy.ask_probability / 2
    at = classify("the kitchen is wet", model=StubModel(emergency=calm, urgent=share * rest + 1e-6))
    below = classify("the kitchen is wet", model=StubModel(emergency=calm, urgent=(share - 0.02) * rest))
    assert at.priority is Priority.URGENT and below.priority is Priority.ROUTINE


def test_a_rule_that_names_an_urgent_matter_lowers_the_urgent_share():
    policy = load_rules().policy
    assert policy.urgent_share_with_rule < policy.urgent_share
    calm = policy.ask_probability / 2
    rest = 1 - calm
    between = (policy.urgent_share_with_rule + policy.urgent_share) / 2 * rest  # urgent with a rule, routine without
    model = StubModel(emergency=calm, urgent=between)
    assert classify_rules("the toilet is clogged again").priority is Priority.URGENT
    assert classify("the toilet is clogged again", model=model).priority is Priority.URGENT
    assert classify_rules("the kitchen is wet").priority is Priority.ROUTINE
    assert classify("the kitchen is wet", model=model).priority is Priority.ROUTINE


@pytest.mark.parametrize(("text", "hazard"), [
    ("the gas detector in the kitchen is beeping", Hazard.LIFE_SAFETY),
    ("el detector de gas está pitando", Hazard.LIFE_SAFETY),
    ("the fire alarm panel in the lobby is dark, the whole system is dead", Hazard.LIFE_SAFETY),
    ("our only toilet is clogged and won't flush, my grandmother lives with us", Hazard.ESSENTIAL_SERVICE),
    ("dirty water is coming up through the shower drain", Hazard.WATER),
    ("the second step of the back stairs split when I stepped on it", Hazard.LIFE_SAFETY),
    ("the outlet is hot and there is a hot plastic smell", Hazard.LIFE_SAFETY),
])
def test_hazards_by_effect(text, hazard):
    r = classify_rules(text)
    assert (r.priority, r.hazard) == (Priority.EMERGENCY, hazard), r.matched_rules


@pytest.mark.parametrize("text", [
    "the fire alarm went off when I burned toast",
    "one toilet is clogged, we can use the other one",
    "our only toilet is clogged and won't flush",
    "the fire alarm panel is beeping and says trouble",
])
def test_not_hazards_by_effect(text):
    assert classify_rules(text).priority is not Priority.EMERGENCY


def test_gas_and_carbon_monoxide_stand_whatever_the_model_says():
    gas = classify("I smell gas in the kitchen", model=StubModel(emergency=0.0))
    assert gas.emergency and gas.emergency_reason == "gas smell or gas leak" and gas.hazard is Hazard.LIFE_SAFETY
    assert classify("the carbon monoxide alarm is going off", model=StubModel(emergency=0.0)).emergency
    assert classify("hay una fuga de gas en la cocina, huele muchísimo").emergency


def test_another_life_safety_rule_the_model_doubts_is_asked_and_defaults_to_an_emergency():
    policy = load_rules().policy
    text = "sparks are coming out of the outlet"
    sure = classify(text, model=StubModel(emergency=policy.rules_confirm_probability))
    assert sure.emergency and sure.hazard is Hazard.LIFE_SAFETY
    doubted = classify(text, model=StubModel(emergency=0.0))
    assert not doubted.emergency and doubted.ask and doubted.hazard is Hazard.LIFE_SAFETY
    assert Hazard.LIFE_SAFETY in policy.no_answer_is_emergency  # asked at once; no answer makes it an emergency


def test_a_water_rule_the_model_rules_out_is_asked_about():
    policy = load_rules().policy
    text = "a pipe burst under the sink"
    sure = classify(text, model=StubModel(emergency=policy.rules_confirm_probability))
    assert sure.emergency and sure.emergency_reason
    doubted = classify(text, model=StubModel(emergency=policy.rules_confirm_probability / 2))
    assert not doubted.emergency and doubted.ask and doubted.hazard is Hazard.WATER


def test_the_model_decides_the_trade_when_sure_and_the_rules_otherwise():
    text = "I smell gas in the kitchen"
    assert classify(text, model=StubModel(emergency=0.9, trade="hvac", trade_probability=0.9)).trade is Trade.HVAC
    rules = load_rules()
    strict = rules.model_copy(update={"policy": rules.policy.model_copy(update={"model_trade_probability": 0.95})})
    strict._compiled = rules._compiled
    assert classify(text, rules=strict, model=StubModel(emergency=0.9, trade="hvac",
                                                        trade_probability=0.9)).trade is Trade.PLUMBING


def test_the_shipped_combination_on_plain_messages():
    assert classify("Water is pouring through my ceiling and spreading into the hallway").emergency
    assert classify("hay una fuga de gas en la cocina, huele muchísimo").emergency
    calm = classify("Could someone repaint the scuffed wall in the living room sometime next week?")
    assert calm.priority is Priority.ROUTINE and not calm.ask and calm.trade is Trade.GENERAL
    assert classify("The elevator in building B is stuck with my neighbor inside").trade is Trade.ELEVATOR


def test_the_emergency_probability_blends_the_hazard_head_by_the_policy_weight():
    policy = load_rules().policy
    opinion = Opinion(priority={"emergency": 0.2, "urgent": 0.5, "routine": 0.3}, trade={"plumbing": 1.0},
                      hazard={"water": 0.5, "life_safety": 0.1, "security": 0.0, "essential_service": 0.0,
                              "none": 0.4}, model_version="stub")
    assert opinion.emergency_score(0.0) == pytest.approx(0.2)
    assert opinion.emergency_score(1.0) == pytest.approx(0.6)
    assert opinion.emergency_score(0.5) == pytest.approx(0.4)
    r = classify("the kitchen is wet", model=StubModel(emergency=0.0))
    assert r.emergency_probability == pytest.approx(0.0)
    assert 0.0 <= policy.hazard_head_weight <= 1.0
