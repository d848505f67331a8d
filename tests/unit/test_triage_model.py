"""The learned triage model: features, the weights file, deterministic training, the shipped model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from infra.triage.dataset import DatasetError, Example, load_examples
from infra.triage.train import CORPUS, Settings, train
from shared.domain.triage import load_rules
from shared.domain.triage_model import DEFAULT_MODEL_PATH, ModelFileError, features, load_model, parse_model


def ex(n: int, text: str, trade: str, priority: str, hazard: str = "none", language: str = "en") -> Example:
    return Example(id=f"x-{n}", channel="sms", language=language, text=text, trade=trade, priority=priority,
                   hazard=hazard)


TINY = [
    ex(1, "water pouring from the ceiling everywhere", "plumbing", "emergency", "water"),
    ex(2, "pipe burst water everywhere in the kitchen", "plumbing", "emergency", "water"),
    ex(3, "sale mucha agua del techo", "plumbing", "emergency", "water", "es"),
    ex(4, "the kitchen faucet drips a little", "plumbing", "routine"),
    ex(5, "faucet drips slowly in the bathroom", "plumbing", "routine"),
    ex(6, "smell of gas in the hallway strong", "plumbing", "emergency", "life_safety"),
    ex(7, "the bedroom outlet is dead", "electrical", "urgent"),
    ex(8, "outlet in the living room stopped working", "electrical", "urgent"),
    ex(9, "paint is peeling in the closet", "general", "routine"),
    ex(10, "closet door paint scratched", "general", "routine"),
]


def test_features_read_words_pairs_negation_and_spelling_slips():
    feats = features("No smoke, just the breaker tripped. Furnase")
    assert {"w:smoke", "n:smoke", "w:breaker", "b:breaker_tripped", "c:<fur", "c:nase"} <= set(feats)
    assert "n:breaker" not in feats  # the clause ended at the comma
    assert "b:smoke_just" not in feats  # no pair across a clause boundary
    assert features("") == [] and features("¡¡!!") == []
    assert features("Calefacción") == features("calefaccion")  # accents folded, as the rules do


def test_training_is_deterministic_and_learns_the_tiny_corpus():
    settings = Settings(iterations=150, min_df=2)
    first, second = train(TINY, settings, "v"), train(TINY, settings, "v")
    assert first == second  # same corpus and settings -> the same weights file, byte for byte
    model = parse_model(first)
    wet = model.predict("water is pouring out of the ceiling")
    assert wet.best(wet.priority)[0] == "emergency" and wet.best(wet.hazard)[0] == "water"
    assert model.predict("the faucet drips").best(model.predict("the faucet drips").priority)[0] == "routine"
    dead = model.predict("outlet dead in bedroom")
    assert dead.best(dead.trade)[0] == "electrical"
    assert abs(sum(wet.priority.values()) - 1.0) < 1e-9


def test_a_bad_weights_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ModelFileError, match="run `opslayer triage train`"):
        load_model(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="not JSON"):
        load_model(str(tmp_path / "bad.json"))
    good = train(TINY, Settings(iterations=5), "v")
    with pytest.raises(ModelFileError, match="unsupported model format"):
        parse_model({**good, "format": 99})
    broken = json.loads(json.dumps(good))
    broken["heads"]["trade"]["bias"] = [0.0]
    with pytest.raises(ModelFileError, match="does not match"):
        parse_model(broken)
    with pytest.raises(ModelFileError, match="malformed"):
        parse_model({"format": good["format"], "version": "v"})


def test_the_shipped_model_is_trained_on_the_shipped_corpus():
    shipped = json.loads(DEFAULT_MODEL_PATH.read_text())
    assert shipped["corpus_sha256"] == hashlib.sha256(CORPUS.read_bytes()).hexdigest(), \
        "the training corpus changed: run `opslayer triage train` and commit the weights"
    assert shipped["examples"] == len(load_examples(CORPUS))
    assert shipped["settings"] == Settings().__dict__
    if shipped["settings"]["rule_features"]:
        assert shipped["rules_version"] == load_rules().version, \
            "the model reads the fired rules: after a rules change run `opslayer triage train` and commit the weights"


def test_a_model_trained_with_the_fired_rules_reads_them():
    with_rules = parse_model(train(TINY, Settings(iterations=150, min_df=2, rule_features=True), "v"))
    without = parse_model(train(TINY, Settings(iterations=150, min_df=2, rule_features=False), "v"))
    assert with_rules.uses_rules and not without.uses_rules
    assert "r:plumbing.flood" in with_rules.vocabulary  # the tiny corpus's floods fire the flood rule
    text = "it is coming down from upstairs"  # no flood words: only the rules say what it is
    assert with_rules.predict(text, ("plumbing.flood",)).emergency_probability \
        > with_rules.predict(text).emergency_probability
    assert without.predict(text, ("plumbing.flood",)) == without.predict(text)


def test_the_shipped_model_is_small_and_reads_spanish():
    model = load_model()
    assert DEFAULT_MODEL_PATH.stat().st_size < 4 * 1024 * 1024
    opinion = model.predict("se rompió un tubo y sale mucha agua, se está inundando la cocina")
    assert opinion.emergency_probability > 0.5 and opinion.best(opinion.trade)[0] == "plumbing"


def test_a_labelled_file_with_a_bad_line_names_it(tmp_path: Path):
    path = tmp_path / "set.jsonl"
    good = ex(1, "a drip", "plumbing", "routine").model_dump_json()
    path.write_text(good + "\n" + good.replace('"routine"', '"whenever"') + "\n")
    with pytest.raises(DatasetError, match=r"set.jsonl:2"):
        load_examples(path)
    path.write_text(good + "\n" + good + "\n")
    with pytest.raises(DatasetError, match="duplicate id"):
        load_examples(path)
