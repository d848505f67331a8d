"""Triage engine: realistic tenant messages, negation, the rule-file loader and the interface."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import pytest

from shared.domain.enums import Hazard, Priority, Trade
from shared.domain.triage import (
    DEFAULT_RULES_PATH,
    RulesFileError,
    TriageResult,
    TriageRules,
    classify_rules,
    explain_tokens,
    load_rules,
    parse_rules,
)

P, E, H, A, L, X, R, G = (
    Trade.PLUMBING,
    Trade.ELECTRICAL,
    Trade.HVAC,
    Trade.APPLIANCE,
    Trade.LOCKSMITH,
    Trade.PEST,
    Trade.ROOFING,
    Trade.GENERAL,
)
EMERG, URG, ROUT = Priority.EMERGENCY, Priority.URGENT, Priority.ROUTINE

# (message as a tenant writes it, expected trade, expected priority)
MESSAGES: list[tuple[str, Trade, Priority]] = [
    # --- emergencies -------------------------------------------------------------------------------
    ("Water is pouring out from under the kitchen sink and I can't find the shut off valve!!", P, EMERG),
    ("HELP the pipe under the bathroom sink just burst, there is water everywhere", P, EMERG),
    ("Theres water coming through the ceiling in my bedroom, i think its from the unit upstairs", P, EMERG),
    ("water leaking from the ceiling light in the hallway, I turned off the breaker", E, EMERG),
    ("I smell gas in the kitchen, really strong near the stove", P, EMERG),
    ("gass smell in the hallway outside my door, kind of like rotten eggs", P, EMERG),
    ("The outlet behind my tv made a popping sound and there were sparkes and now a burning smell", E, EMERG),
    ("Smoke coming out of the electrical panel in the utility closet!!!", E, EMERG),
    ("our heater is not working and its freezing in here, we have a newborn", H, EMERG),
    ("No heat since last night. It's 40 degrees outside and the apartment is ice cold.", H, EMERG),
    ("The furnance wont turn on at all, thermostat says heating but nothing happens", H, EMERG),
    ("Sewage is backing up into the bathtub every time we flush the toilet. It smells awful", P, EMERG),
    ("We have no water at all, nothing comes out of any faucet", P, EMERG),
    ("I locked myself out of my apartment and my phone is inside, using my neighbor's phone", L, EMERG),
    ("The front door lock is brocken and the door won't lock. I can't leave the apartment unsecured", L, EMERG),
    ("The carbon monoxide alarm keeps going off in the hallway and won't stop", H, EMERG),
    ("Our bathroom is flooded, the toilet overflowed and it's still running onto the floor", P, EMERG),
    ("the roof is leaking into the living room every time it rains, buckets everywhere", R, EMERG),
    ("Power is out in the whole apartment but the neighbors have power. Breakers look fine", E, EMERG),
    ("my kitchen outlet is hot to the touch and smells like burning plastic", E, EMERG),
    ("There is a leek under my bathroom sink, water is all over the floor", P, EMERG),
    ("Hay una fuga de agua en la cocina, el agua sale por debajo del fregadero", P, EMERG),
    ("Tengo olor a gas en la cocina", P, EMERG),
    ("Estamos sin calefacción desde ayer y hace mucho frío", H, EMERG),
    ("se fue la luz en todo el apartamento", E, EMERG),
    ("I think there's a gas leak, it's coming from the stove", P, EMERG),
    ("URGENT!!! WATER EVERYWHERE IN THE KITCHEN CANT FIND WHERE ITS COMING FROM PLEASE SEND SOMEONE", P, EMERG),
    ("someone broke into my apartment last night and now the door won't lock", L, EMERG),
    ("Ceiling in the bathroom is sagging and dripping water, looks like it might cave in", P, EMERG),
    ("Pipes froze overnight and now no water is coming out of the kitchen tap", P, EMERG),
    ("water heater is leaking alot, there's a big puddle in the closet", P, EMERG),
    ("i cant get into my apartment, the key won't turn and I'm stuck outside with my kids", L, EMERG),
    ("The heat doesnt work and the radiators are cold, I've been using the oven to stay warm", H, EMERG),
    ("Water is dripping from around the light fixture in the bathroom ceiling", E, EMERG),
    # --- urgent ------------------------------------------------------------------------------------
    ("We have had no hot water since Sunday, the water heater pilot light seems to be out", P, URG),
    ("the only toilet in the apartment is clogged and won't flush, plunger doesn't help", P, URG),
    ("Toliet won't flush, handle just flops", P, URG),
    ("Fridge stopped cooling, everything inside is warm and the food is going to spoil", A, URG),
    ("My refridgerator isnt cold anymore, the freezer still works though", A, URG),
    ("The AC is not working and it's 95 degrees today, it's just blowing warm air", H, URG),
    ("half the outlets in the living room don't work, the rest of the apartment is fine", E, URG),
    ("Breaker for the kitchen keeps tripping whenever I use the microwave and the kettle", E, URG),
    ("I saw a rat in the kitchen last night running along the counter. Also droppings in the pantry", X, URG),
    ("We think we have bed bugs, woke up with bites and found some on the mattress", X, URG),
    ("Bedroom window is cracked after the storm, there's a draft coming in", Trade.GLAZING_DOORS, URG),
    ("I lost my keys somewhere today, I'm at a friend's tonight, can I get a new set?", L, URG),
    ("Key snapped off in the deadbolt on my mailbox... actually on my bedroom door", L, URG),
    ("Not an emergency but the heat is weak, the bedrooms barely get warm", H, URG),
    ("the dishwasher is leaking from the bottom onto the kitchen floor when it runs", A, URG),
    ("There's a slow leak under the bathroom vanity, it's been dripping into a bowl for a few days", P, URG),
    ("missing shingles on the roof after last night's wind storm", R, URG),
    ("Lights in the kitchen are flickering on and off and buzzing", E, URG),
    ("Sewer smell coming from the basement floor drain, getting worse every day", P, URG),
    ("There is black mold growing on the bathroom ceiling and around the window", G, URG),
    ("the toilet is leaking at the base, the floor around it is always wet", P, URG),
    ("AC unit leaking water onto the bedroom carpet", H, URG),
    ("no power in my bedroom, the rest of the apartment is fine", E, URG),
    ("there is water on the floor around the washing machine", A, URG),
    ("my water bill is really high, could there be a leak?", P, URG),
    ("My daughter locked the bathroom door from inside and can't get out", L, URG),
    ("el inodoro está tapado y no baja el agua", P, URG),
    ("No hay agua caliente desde el lunes", P, URG),
    ("Not locked out, but the deadbolt sticks a lot", L, URG),
    # --- routine -----------------------------------------------------------------------------------
    ("no leak, just a dripping tap in the bathroom", P, ROUT),
    ("Kitchen fauset drips constantly, drip drip drip all night", P, ROUT),
    ("The bathroom sink drains really slowly, probably hair in the drain", P, ROUT),
    ("The garbage disposal is jammed and just hums when I turn it on", P, ROUT),
    ("there's no gas smell, the stove just won't light on the front left burner", A, ROUT),
    ("no sparks or anything, the outlet is just loose and the plug falls out", E, ROUT),
    ("One of the kitchen cabinet doors has a broken hinge and hangs crooked", G, ROUT),
    ("Can someone come touch up the paint in the hallway? There are scuff marks", G, ROUT),
    ("The blinds in the living room are broken, the cord snapped", G, ROUT),
    ("The bedroom door squeaks every time we open it, could use some oil", G, ROUT),
    ("The light bulb inside the fridge burned out", A, ROUT),
    ("Dryer takes 3 cycles to dry a load of towels", A, ROUT),
    ("The microwave turntable doesn't spin anymore", A, ROUT),
    ("we're seeing a few ants near the kitchen window, not a big deal", X, ROUT),
    ("There's a wasp nest under the balcony railing", X, ROUT),
    ("Gutters are full of leaves and overflowing onto the walkway", R, ROUT),
    ("the toilet keeps running after flushing, have to jiggle the handle", P, ROUT),
    ("The smoke detector in the hallway keeps chirping, I think it needs a new battery", Trade.FIRE_SAFETY, URG),
    ("Somebody is trapped in the elevator between the 3rd and 4th floor", Trade.ELEVATOR, EMERG),
    ("The balcony railing on the 5th floor is loose and wobbly, my kids play out there", Trade.STRUCTURAL, EMERG),
    ("Thermostat display is faded, hard to read the numbers", H, ROUT),
    ("The bathroom door lock doesn't work, it just spins", L, ROUT),
    ("I noticed a water stain on the ceiling, it's old and dry, just cosmetic", G, ROUT),
    ("Our new flooring is peeling up near the front entrance", G, ROUT),
    ("I washed the dishes and looked around, the cabinet under the sink has a loose door", G, ROUT),
    ("Hello! just wanted to say thanks for fixing the fence so fast", G, ROUT),
    ("hay cucarachas en la cocina \U0001fab3\U0001fab3", X, ROUT),
    ("radiator is banging all night long", H, ROUT),
    ("fridge door won't close properly, the seal is torn", A, ROUT),
    ("", G, ROUT),
    ("🙂🙂🙂", G, ROUT),
]


@pytest.mark.parametrize(("text", "trade", "priority"), MESSAGES, ids=[m[0][:40] or "<empty>" for m in MESSAGES])
def test_realistic_messages(text: str, trade: Trade, priority: Priority) -> None:
    result = classify_rules(text)
    assert (result.trade, result.priority) == (trade, priority), result.matched_rules


def test_there_are_at_least_60_realistic_messages_covering_every_trade_and_priority() -> None:
    assert len(MESSAGES) >= 60
    assert {m[1] for m in MESSAGES} == set(Trade)
    assert {m[2] for m in MESSAGES} == set(Priority)


# --- negation ------------------------------------------------------------------------------------

NEGATION_PAIRS: list[tuple[str, str, str]] = [
    # (negated message, same words without the negation, the rule id that must fire only in the second)
    ("there is no leak under the sink", "there is a leak under the sink", "plumbing.active_leak"),
    ("I don't smell gas anywhere", "I smell gas everywhere", "plumbing.gas_smell"),
    ("no sparks from the outlet", "sparks from the outlet", "electrical.sparks"),
    ("the ceiling isn't leaking", "the ceiling is leaking", "plumbing.ceiling_water"),
    ("we are not locked out", "we are locked out", "locksmith.lockout"),
    ("the lock isn't broken", "the lock is broken", "locksmith.door_wont_lock"),
    ("I don't think it's a leak", "I do think it's a leak", "plumbing.active_leak"),
]


@pytest.mark.parametrize(("negated", "plain", "rule_id"), NEGATION_PAIRS)
def test_negation_suppresses_the_rule_only_when_negated(negated: str, plain: str, rule_id: str) -> None:
    assert rule_id in classify_rules(plain).matched_rules
    assert rule_id not in classify_rules(negated).matched_rules


@pytest.mark.parametrize(
    ("text", "rule_id"),
    [
        # punctuation and terminators end the negation scope
        ("no hot water issue. the pipe under the sink is leaking", "plumbing.active_leak"),
        ("the fridge is fine, no problem there but there are sparks at the outlet", "electrical.sparks"),
        # pseudo-negations do not negate
        ("I can't stop the leak under the sink", "plumbing.active_leak"),
        ("not sure where the leak is coming from", "plumbing.active_leak"),
        # a cue further back than the window does not negate
        ("nobody was home, not one of us, when we came back the kitchen was flooding", "plumbing.flood"),
    ],
)
def test_negation_scope_is_bounded(text: str, rule_id: str) -> None:
    assert rule_id in classify_rules(text).matched_rules


def test_the_spec_negation_examples() -> None:
    r = classify_rules("no leak, just a dripping tap")
    assert (r.trade, r.priority, r.emergency) == (Trade.PLUMBING, Priority.ROUTINE, False)
    assert not classify_rules("not an emergency but the heat is weak").emergency
    r = classify_rules("there's no gas smell, the stove just won't light")
    assert (r.trade, r.emergency) == (Trade.APPLIANCE, False)
    r = classify_rules("no sparks or anything, the outlet is just loose")
    assert (r.trade, r.priority) == (Trade.ELECTRICAL, Priority.ROUTINE)


def _rules_data() -> dict[str, Any]:
    return json.loads(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))


def test_negation_window_and_cues_come_from_the_data() -> None:
    text = "there is no visible sign of a leak"  # the cue is 5 tokens before "leak"
    data = _rules_data()
    assert data["negation"]["window"] < 5
    assert classify_rules(text).emergency  # outside the default window: the leak counts
    data["negation"]["window"] = 5
    assert not classify_rules(text, parse_rules(data)).emergency
    # remove "no" from the cues: "no leak" is no longer negated
    data = _rules_data()
    data["negation"]["cues"].remove("no")
    data["negation"]["pseudo"] = [p for p in data["negation"]["pseudo"] if not p.startswith("no ")]
    assert classify_rules("no leak", parse_rules(data)).emergency
    assert not classify_rules("no leak").emergency


# --- misspellings, case, unicode -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "trade"),
    [
        ("leek under the sink", Trade.PLUMBING),
        ("the fauset is dripping", Trade.PLUMBING),
        ("clogged toliet", Trade.PLUMBING),
        ("the furnance is making a banging noise", Trade.HVAC),
        ("refridgerator is making noise", Trade.APPLIANCE),
        ("elecrtical problem in the hallway", Trade.ELECTRICAL),
        ("THE THERMASTAT IS BLANK", Trade.HVAC),
        ("dishwaser wont start", Trade.APPLIANCE),
        ("cockroachs in the bathroom", Trade.PEST),
    ],
)
def test_misspellings_are_understood(text: str, trade: Trade) -> None:
    assert classify_rules(text).trade is trade


@pytest.mark.parametrize(
    ("text", "must_not_fire"),
    [
        # real words one letter away from a rule word must not be "corrected" into it
        ("the new flooring in the hallway is peeling", "plumbing.flood"),
        ("I was cooking dinner when the cabinet hinge came off", "hvac.keywords"),
        ("I looked everywhere for the paint can", "locksmith.keywords"),
        ("the counters are sparkling clean, paint is chipped though", "electrical.sparks"),
        ("I dropped a glass and the tile cracked", "plumbing.keywords"),
        ("the closet door is closed but it squeaks", "locksmith.door_wont_lock"),
        ("the lightning storm knocked a shutter loose", "electrical.keywords"),
        ("I was wiping the counter and the drawer fell off", "electrical.keywords"),
    ],
)
def test_fuzzy_matching_does_not_invent_words(text: str, must_not_fire: str) -> None:
    assert must_not_fire not in classify_rules(text).matched_rules


def test_case_punctuation_and_apostrophes_do_not_matter() -> None:
    variants = [
        "The heater isn't working",
        "THE HEATER ISN'T WORKING!!!",
        "the heater isnt working",
        "the heater isn\u2019t working...",
    ]
    results = {(classify_rules(v).trade, classify_rules(v).priority) for v in variants}
    assert results == {(Trade.HVAC, Priority.EMERGENCY)}


def test_tokens_fold_accents_contractions_and_compounds() -> None:
    assert explain_tokens("Sin calefacción") == ["sin", "calefaccion"]
    assert explain_tokens("the hot water heater doesn't work") == ["the", "waterheater", "doesnt", "work"]
    assert explain_tokens("A/C is out. Fridge too") == ["ac", "is", "out", "|", "fridge", "too"]


def test_a_water_heater_is_not_the_heating() -> None:
    r = classify_rules("the water heater is not working")
    assert (r.trade, r.priority) == (Trade.PLUMBING, Priority.URGENT)
    assert "hvac.no_heat" not in r.matched_rules


# --- the result and the interface ----------------------------------------------------------------


def test_result_reports_version_reason_and_rules() -> None:
    rules = load_rules()
    r = classify_rules("I smell gas in the kitchen")
    assert isinstance(r, TriageResult)
    assert r.rules_version == rules.version == _rules_data()["version"]
    assert r.emergency is True
    assert r.emergency_reason == "gas smell or gas leak"
    assert "plumbing.gas_smell" in r.matched_rules


@pytest.mark.parametrize("text", [m[0] for m in MESSAGES if m[2] is Priority.EMERGENCY])
def test_every_emergency_has_a_reason_and_matched_rules(text: str) -> None:
    r = classify_rules(text)
    assert r.emergency
    assert r.matched_rules
    assert r.emergency_reason and r.emergency_reason.strip()


@pytest.mark.parametrize("text", ["I think there's a gas leak", "gas is leaking from the stove", "fuga de gas"])
def test_a_gas_leak_is_not_reported_as_a_water_leak(text: str) -> None:
    r = classify_rules(text)
    assert r.emergency_reason == "gas smell or gas leak"
    assert "plumbing.active_leak" not in r.matched_rules


def test_non_emergencies_have_no_reason() -> None:
    r = classify_rules("the toilet is clogged")
    assert r.priority is Priority.URGENT and not r.emergency and r.emergency_reason is None


def test_multi_issue_message_takes_the_most_pressing_issue() -> None:
    r = classify_rules("The cabinet hinge is loose, the bedroom blinds are broken, and I smell gas near the stove.")
    assert (r.trade, r.priority, r.emergency_reason) == (Trade.PLUMBING, Priority.EMERGENCY, "gas smell or gas leak")
    r = classify_rules("sparks from the outlet by the sink and the sink is also leaking")
    assert r.trade is Trade.ELECTRICAL and r.emergency
    assert "sparks from electrical" in (r.emergency_reason or "")
    assert "active water leak" in (r.emergency_reason or "")


def test_result_is_frozen() -> None:
    r = classify_rules("the toilet is clogged")
    with pytest.raises(AttributeError):
        r.trade = Trade.GENERAL  # type: ignore[misc]


def test_classification_is_deterministic() -> None:
    texts = [m[0] for m in MESSAGES]
    first = [classify_rules(t) for t in texts]
    fresh = load_rules(DEFAULT_RULES_PATH)  # a separate, uncached load of the same file
    assert [classify_rules(t, fresh) for t in texts] == first
    assert [classify_rules(t) for t in reversed(texts)] == list(reversed(first))


def test_default_rules_are_loaded_once() -> None:
    assert load_rules() is load_rules()
    assert isinstance(load_rules(), TriageRules)
    assert load_rules(str(DEFAULT_RULES_PATH)) is not load_rules()


@pytest.mark.parametrize("text", ["", " ", "\n\n", "!!!", "???...", "a" * 5000, "\x00\x01\ufffd", "🔥💧⚡️🐀"])
def test_classify_never_raises_and_defaults_to_general_routine(text: str) -> None:
    r = classify_rules(text)
    assert (r.trade, r.priority, r.matched_rules) == (Trade.GENERAL, Priority.ROUTINE, ())


def test_classify_never_raises_on_random_text() -> None:
    rng = random.Random(1234)
    alphabet = string.printable + "\u00e1\u00e9\u00f1\u00fc\u2019\u201c\u201d\u2014\u2013\U0001f600\U0001f6b0\U0001f525"
    words = [w for m in MESSAGES for w in m[0].split()]
    for _ in range(300):
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        mixed = " ".join(rng.choice(words) for _ in range(rng.randint(0, 60)))
        for text in (noise, mixed, noise + mixed):
            r = classify_rules(text)
            assert r.trade in Trade and r.priority in Priority
            assert "engine.fallback" not in r.matched_rules


# --- the rule file -------------------------------------------------------------------------------


def test_shipped_rule_file_is_versioned_and_valid() -> None:
    data = _rules_data()
    assert data["changelog"][0]["version"] == data["version"]
    rules = parse_rules(data)
    assert {r.trade for r in rules.rules if r.trade} == set(Trade)
    assert all(r.reason for r in rules.rules if r.priority is Priority.EMERGENCY)


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "rules.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _broken(mutate: Any) -> dict[str, Any]:
    data = _rules_data()
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.update(version="latest"), "version"),
        (lambda d: d["changelog"][0].update(version="2000-01-01.1"), "changelog"),
        (lambda d: d["rules"][0].update(priority="whenever"), "rules.0.priority"),
        (lambda d: d["rules"][0].update(trade="carpentry"), "rules.0.trade"),
        (lambda d: d["rules"][0].pop("reason"), "needs a plain-words 'reason'"),
        (lambda d: d["rules"][1].update(id=d["rules"][0]["id"]), "duplicate rule id"),
        (lambda d: d["rules"][0].update(patterns=["gas @NOSUCHGROUP"]), "unknown group @NOSUCHGROUP"),
        (lambda d: d["rules"][0].update(patterns=["*2 gas"]), "must not start or end with a gap"),
        (lambda d: d["rules"][0].update(overrides=["no.such.rule"]), "overrides unknown rule"),
        (lambda d: d["rules"][0].update(patterns=[]), "rules.0.patterns"),
        (lambda d: d["rules"][0].update(colour="red"), "rules.0.colour"),
        (lambda d: d["trade_precedence"].remove("pest"), "trade_precedence"),
        (lambda d: d["negation"].update(window=0), "negation.window"),
        (lambda d: d["negation"]["pseudo"].append("maybe not"), "pseudo-negation"),
    ],
)
def test_loader_rejects_a_malformed_rule_file_clearly(tmp_path: Path, mutate: Any, message: str) -> None:
    path = _write(tmp_path, _broken(mutate))
    with pytest.raises(RulesFileError) as excinfo:
        load_rules(path)
    assert message in str(excinfo.value)
    assert str(path) in str(excinfo.value)


def test_loader_rejects_invalid_json_with_its_position(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"version": "2026-11-23.1",\n "rules": [}')
    with pytest.raises(RulesFileError, match=r"not valid JSON: .* line 2 column"):
        load_rules(path)


def test_loader_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RulesFileError, match="cannot read triage rules file"):
        load_rules(tmp_path / "nope.json")


def test_a_custom_rule_file_changes_the_classification(tmp_path: Path) -> None:
    data = _rules_data()
    data["version"] = "2099-01-01.1"
    data["changelog"].insert(0, {"version": "2099-01-01.1", "changes": ["a jammed gate is an emergency"]})
    data["rules"].insert(
        0,
        {
            "id": "general.gate_jammed",
            "patterns": ["gate *3 jammed"],
            "trade": "general",
            "priority": "emergency",
            "hazard": "security",
            "reason": "the building gate is jammed open",
            "weight": 5,
        },
    )
    custom = load_rules(_write(tmp_path, data))
    text = "the parking gate is jammed wide open"
    assert classify_rules(text).priority is Priority.ROUTINE
    r = classify_rules(text, custom)
    assert (r.priority, r.emergency_reason, r.rules_version, r.hazard) == (
        Priority.EMERGENCY,
        "the building gate is jammed open",
        "2099-01-01.1",
        Hazard.SECURITY,
    )


@pytest.mark.parametrize("text", [
    "CO detector beeping once a minute, pretty sure its the battery, screen says LB. nobody feels sick",
    "the carbon monoxide detector in the hallway keeps chirping and the little screen says END",
    "el detector de monóxido hace un pitido de batería baja cada minuto",
])
def test_a_chirping_detector_is_urgent_not_a_carbon_monoxide_alarm(text: str) -> None:
    r = classify_rules(text)
    assert r.priority is URG and "hvac.carbon_monoxide" not in r.matched_rules, r.matched_rules


def test_a_carbon_monoxide_alarm_that_is_not_the_battery_chirp_stays_an_emergency() -> None:
    r = classify_rules("the carbon monoxide alarm is going off, the loud one, not the battery chirp")
    assert r.priority is EMERG and r.stands


@pytest.mark.parametrize(("text", "ill"), [
    ("the heater is on and we all have headaches and feel dizzy", True),
    ("todos tenemos dolor de cabeza y mareos desde que prendimos el calentador", True),
    ("the furnace makes a bang when it starts. no headaches, nobody feels dizzy", False),
])
def test_someone_feeling_ill_is_a_life_safety_emergency(text: str, ill: bool) -> None:
    r = classify_rules(text)
    assert ("general.feeling_ill" in r.matched_rules) is ill
    if ill:
        assert r.priority is EMERG and r.hazard is Hazard.LIFE_SAFETY


@pytest.mark.parametrize("text", [
    "big crack in the foundation wall in the basement. no water coming in, it's been there a while",
    "the grout in my shower is cracking, no water coming through, just wanted someone to look",
])
def test_no_water_coming_in_is_not_a_water_outage(text: str) -> None:
    assert "plumbing.no_water" not in classify_rules(text).matched_rules
    assert "plumbing.no_water" in classify_rules("no water at all in the apartment since this morning").matched_rules


@pytest.mark.parametrize("text", [
    "smelled a little gas earlier, found the knob slightly on, turned it off and opened windows. no smell now",
    "there was a burning smell from the outlet earlier, i unplugged everything and the smell is gone",
    "ayer olió a gas un momento, abrí la ventana y ya no huele",
    "our CO alarm went off last night, the fire department came and checked everything, all fine",
])
def test_a_smell_or_alarm_that_is_over_is_asked_about_not_declared(text: str) -> None:
    r = classify_rules(text)
    assert r.priority is not EMERG and r.ask, r.matched_rules


def test_a_spanish_fire_escape_or_fire_alarm_panel_is_not_a_fire() -> None:
    assert "general.fire_smoke" not in classify_rules(
        "la baranda de la escalera de incendio tiene un barrote suelto").matched_rules
    assert "general.fire_smoke" not in classify_rules(
        "el panel de la alarma contra incendios del lobby esta pitando y dice TROUBLE").matched_rules
    assert "general.fire_smoke" in classify_rules("hay un incendio en la cocina").matched_rules


@pytest.mark.parametrize(("text", "stuck"), [
    ("the back burner glows orange even with the knob on off and i cant turn it off", True),
    ("one of the coils on the electric stove turned itself on and is glowing", True),
    ("la hornilla de atrás se quedó prendida y no se apaga con la perilla", True),
    ("the oven won't turn on, the clock works but no heat", False),
    ("la hornilla de atrás no prende, las otras sí", False),
])
def test_a_burner_that_will_not_turn_off_is_a_fire_hazard(text: str, stuck: bool) -> None:
    r = classify_rules(text)
    assert ("appliance.burner_stuck_on" in r.matched_rules) is stuck, r.matched_rules
    if stuck:
        assert r.priority is EMERG and r.hazard is Hazard.LIFE_SAFETY and r.trade is Trade.APPLIANCE


@pytest.mark.parametrize(("text", "unsecured"), [
    ("the strike plate is bent so the bolt misses and i cant lock it", True),
    ("la puerta se hinchó y ya no le puedo poner llave", True),
    ("el seguro de la puerta del baño está roto, ya no se puede poner seguro", False),
])
def test_a_door_that_cannot_be_locked_is_a_security_emergency_unless_interior(text: str, unsecured: bool) -> None:
    r = classify_rules(text)
    assert ("locksmith.door_wont_lock" in r.matched_rules) is unsecured, r.matched_rules


@pytest.mark.parametrize(("text", "priority"), [
    ("the oven won't turn on at all", URG),
    ("el horno no prende desde ayer", URG),
    ("our stove is dead, can't cook anything", URG),
    ("one burner on the stove doesn't work, the other three are fine", ROUT),
    ("la hornilla izquierda no prende, las demás sí", ROUT),
])
def test_the_stove_or_oven_out_is_urgent_one_burner_is_routine(text: str, priority: Priority) -> None:
    result = classify_rules(text)
    assert result.priority is priority and result.trade is Trade.APPLIANCE, result.matched_rules


@pytest.mark.parametrize(("text", "qualifier", "present"), [
    ("the washer is noisy but it still works", "qualifier.minor", True),
    ("no rush, whenever you get a chance", "qualifier.minor", True),
    ("we can use the other bathroom for now", "qualifier.minor", True),
    ("la puerta todavía cierra, solo raspa un poco", "qualifier.minor", True),
    ("no es urgente, cuando puedan", "qualifier.minor", True),
    ("the heat still doesn't work", "qualifier.minor", False),
    ("the crack is bigger than it was last month", "qualifier.worsening", True),
    ("la mancha es cada vez más grande", "qualifier.worsening", True),
    ("it is not getting any worse", "qualifier.worsening", False),
])
def test_the_tenants_own_account_of_how_minor_or_worsening_it_is(text: str, qualifier: str, present: bool) -> None:
    """Qualifiers the model weighs (no rule's priority changes): still works / a workaround / no hurry /
    cosmetic, and getting worse."""
    result = classify_rules(text)
    assert (qualifier in result.matched_rules) is present, result.matched_rules


@pytest.mark.parametrize(("text", "hazard"), [
    ("the hallway carpet is torn up, someone is going to trip over it", True),
    ("el piso está resbaloso y alguien se va a caer", True),
    ("the breaker keeps tripping when I run the microwave", False),
])
def test_something_people_can_trip_or_get_hurt_on_is_urgent(text: str, hazard: bool) -> None:
    assert ("general.injury_risk" in classify_rules(text).matched_rules) is hazard
