"""`opslayer triage eval`: the figures, the per-class table, the confusion matrices; the frozen blind set."""

from __future__ import annotations

import hashlib
from pathlib import Path

from infra.cli import main
from infra.triage.dataset import Example, load_examples, near_copies
from infra.triage.evaluate import Decision, evaluate, full_report
from infra.triage.train import CORPUS

BLIND = Path(__file__).resolve().parents[1] / "data" / "triage" / "blind.jsonl"
# The current blind set's SHA-256, pinned when it is committed (before anything is measured on it): set G,
# 660 messages (ids i1-/i2-/i3-) written for rules 2026-12-04.2. None while there is none.
BLIND_SHA256: str | None = "3e5f08dc0ef1241ab590d3f20e331c6fb63884078a4f9a0d0f34078412079b8b"
# The retired blind sets, each now in the training pool under its id prefixes, and their sizes
# (tests/data/triage/README.md).
RETIRED = {"A": (("b1-", "b2-", "b3-", "b4-"), 640), "B": (("c1-", "c2-", "c3-", "c4-"), 640),
           "C": (("e1-", "e2-", "e3-"), 642), "D": (("f1-", "f2-", "f3-"), 642),
           "E": (("g1-", "g2-", "g3-"), 642), "F": (("h1-", "h2-", "h3-"), 642)}


def ex(n: int, priority: str, trade: str = "plumbing", language: str = "en") -> Example:
    return Example(id=f"e-{n}", channel="web", language=language, text=f"message {n}", trade=trade,
                   priority=priority, hazard="water" if priority == "emergency" else "none")


def test_the_blind_set_is_frozen():
    if BLIND_SHA256 is None:
        assert not BLIND.exists(), "a blind set is pinned (BLIND_SHA256) when it is committed, before it is used"
        return
    assert hashlib.sha256(BLIND.read_bytes()).hexdigest() == BLIND_SHA256, \
        "the blind set is frozen: it must not be edited (write a new set instead)"
    examples = load_examples(BLIND)
    assert len(examples) >= 600
    assert sum(e.language == "es" for e in examples) >= 0.25 * len(examples)
    assert {e.channel for e in examples} == {"sms", "email", "web", "voicemail"}
    assert {e.priority.value for e in examples} == {"emergency", "urgent", "routine"}


def test_each_retired_blind_set_is_in_the_training_pool():
    """Every message of a retired set is in the pool, except near copies of the current blind set (left out
    while it is in use, `opslayer triage near-copies --drop`)."""
    pool = [e.id for e in load_examples(CORPUS)]
    assert len(pool) == len(set(pool))
    for name, (prefixes, size) in RETIRED.items():
        kept = sum(i.startswith(prefixes) for i in pool)
        assert 0.9 * size <= kept <= size, f"blind set {name} is retired into the pool"
    if BLIND.exists():
        assert not near_copies(load_examples(CORPUS), load_examples(BLIND)), "near copies of the blind set"


def test_figures_per_class_and_confusion_are_computed_from_the_decisions():
    examples = [ex(1, "emergency"), ex(2, "emergency"), ex(3, "emergency"), ex(4, "urgent"), ex(5, "routine"),
                ex(6, "routine", "electrical")]
    said = {"message 1": Decision("plumbing", "emergency", "water"),
            "message 2": Decision("plumbing", "urgent", "none", ask=True),  # missed, but asked about
            "message 3": Decision("plumbing", "routine", "none"),  # missed and not asked
            "message 4": Decision("plumbing", "emergency", "water"),  # a false emergency
            "message 5": Decision("plumbing", "routine", "none"),
            "message 6": Decision("plumbing", "routine", "none")}
    report, timings = evaluate(examples, lambda text: said[text])
    assert len(timings) == 6
    s = report.summary()
    assert s["emergency_recall"] == 1 / 3 and s["emergency_recall_with_questions"] == 2 / 3
    assert s["false_emergency_rate"] == 1 / 3 and s["asked"] == 1
    assert s["priority_accuracy"] == 3 / 6 and s["trade_accuracy"] == 5 / 6
    rows = {c: (n, p, r) for c, n, p, r in report.per_class("priority", ("emergency", "urgent", "routine"))}
    assert rows["emergency"] == (3, 0.5, 1 / 3)  # precision 1 of 2 said, recall 1 of 3
    assert rows["routine"] == (2, 2 / 3, 1.0)
    matrix = report.confusion("priority", ("emergency", "urgent", "routine"))
    assert matrix["emergency"] == {"emergency": 1, "urgent": 1, "routine": 1}
    assert matrix["urgent"]["emergency"] == 1


def test_the_report_has_the_matrices_and_each_language():
    examples = [ex(1, "emergency"), ex(2, "routine", language="es")]
    text, figures = full_report(examples, lambda _: Decision("plumbing", "emergency", "water"), "toy")
    assert "-- priority: confusion (rows: label, columns: triage)" in text
    assert "-- trade: per class" in text and "-- hazard: confusion" in text
    assert "toy [en]" in text and "toy [es]" in text and "classify(): median" in text
    assert figures["es"]["false_emergency_rate"] == 1.0 and figures["en"]["emergency_recall"] == 1.0


def test_the_command_measures_any_labelled_file(tmp_path: Path, capsys):
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(e.model_dump_json() for e in (
        Example(id="a", channel="sms", language="en", text="Water is pouring through the ceiling, help",
                trade="plumbing", priority="emergency", hazard="water"),
        Example(id="b", channel="sms", language="es", text="la pintura del cuarto se está pelando",
                trade="general", priority="routine", hazard="none"))) + "\n")
    for mode in ("combined", "rules", "model"):
        assert main(["triage", "eval", str(path), "--mode", mode]) == 0
        out = capsys.readouterr().out
        assert f"({mode}): 2 messages, 1 emergencies" in out and "confusion" in out
    assert main(["triage", "eval", str(path), "--json"]) == 0
    assert '"emergency_recall": 1.0' in capsys.readouterr().out


def test_a_second_labellers_labels_are_scored_against_the_first(tmp_path: Path, capsys):
    """`--labels`: how far two labellers agree, in the same report (the ceiling a classifier is measured against)."""
    import json

    import pytest

    from infra.triage.evaluate import second_labeller

    examples = [ex(1, "emergency"), ex(2, "urgent"), ex(3, "routine", language="es")]
    path, labels = tmp_path / "set.jsonl", tmp_path / "second.jsonl"
    path.write_text("".join(e.model_dump_json() + "\n" for e in examples))
    labels.write_text("".join(json.dumps({"id": e.id, "trade": e.trade.value, "hazard": e.hazard.value,
                                          "priority": "urgent" if e.id == "e-3" else e.priority.value}) + "\n"
                              for e in examples))
    report, _ = evaluate(examples, second_labeller(examples, labels))
    assert report.accuracy("priority") == 2 / 3 and report.accuracy("trade") == 1.0
    assert main(["triage", "eval", str(path), "--labels", str(labels)]) == 0
    out = capsys.readouterr().out
    priority_line = next(line for line in out.splitlines() if line.startswith("priority accuracy"))
    assert "(second labeller" in out and priority_line.endswith("66.7%")
    assert "classify()" not in out  # a labeller's speed means nothing
    labels.write_text(labels.read_text().splitlines()[0] + "\n")
    with pytest.raises(ValueError, match="no label for 2 message"):
        second_labeller(examples, labels)
