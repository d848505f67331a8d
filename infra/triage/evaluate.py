"""Measure triage on a labelled file: ``opslayer triage eval FILE``.

Prints, for the whole file and per language: emergency recall and the false-emergency rate,
priority / trade / hazard accuracy, per-class precision and recall, and the confusion matrices
(rows = the label, columns = what triage said). Messages that triage would ask about are counted:
their immediate decision is what is scored, and "recall with questions" adds the emergencies that
would be asked about (a question goes out at once, and no answer counts as an emergency for the
life-safety and water classes).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.triage.dataset import Example
from shared.domain.enums import Hazard, Priority, Trade


@dataclass(frozen=True)
class Decision:
    trade: str
    priority: str
    hazard: str
    ask: bool = False


Classifier = Callable[[str], Decision]


def triage_decision(mode: str = "combined") -> Classifier:
    """The shipped triage as a classifier: ``combined`` (what production does), ``rules`` or ``model``."""
    from shared.domain.triage import classify, classify_rules
    from shared.domain.triage_model import load_model

    if mode == "rules":
        def by_rules(text: str) -> Decision:
            r = classify_rules(text)
            return Decision(r.trade.value, r.priority.value, r.hazard.value if r.emergency else "none", r.ask)
        return by_rules
    if mode == "model":
        model = load_model()

        def by_model(text: str) -> Decision:
            o = model.predict(text)
            return Decision(o.best(o.trade)[0], o.best(o.priority)[0], o.best(o.hazard)[0])
        return by_model

    def combined(text: str) -> Decision:
        r = classify(text)
        return Decision(r.trade.value, r.priority.value, r.hazard.value if r.emergency else "none", r.ask)
    return combined


def second_labeller(examples: Sequence[Example], labels: Path) -> Classifier:
    """Another person's labels for the same messages (JSONL: id, trade, priority, hazard), as a classifier: the
    report then says how far two careful labellers agree (the ceiling a classifier is measured against)."""
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_id = {row["id"]: Decision(row["trade"], row["priority"], row["hazard"]) for row in rows}
    missing = [e.id for e in examples if e.id not in by_id]
    if missing:
        raise ValueError(f"{labels}: no label for {len(missing)} message(s), e.g. {missing[0]}")
    by_text = {e.text: by_id[e.id] for e in examples}
    return lambda text: by_text[text]


@dataclass
class Report:
    n: int
    labels: dict[str, list[str]] = field(default_factory=dict)
    predicted: dict[str, list[str]] = field(default_factory=dict)
    asked: list[bool] = field(default_factory=list)

    def accuracy(self, head: str) -> float:
        pairs = zip(self.labels[head], self.predicted[head], strict=True)
        return sum(a == b for a, b in pairs) / self.n if self.n else 0.0

    def emergency_recall(self, with_questions: bool = False) -> tuple[int, int]:
        hit = total = 0
        for label, said, asked in zip(self.labels["priority"], self.predicted["priority"], self.asked, strict=True):
            if label == "emergency":
                total += 1
                hit += said == "emergency" or (with_questions and asked)
        return hit, total

    def false_emergencies(self) -> tuple[int, int]:
        false = total = 0
        for label, said in zip(self.labels["priority"], self.predicted["priority"], strict=True):
            if label != "emergency":
                total += 1
                false += said == "emergency"
        return false, total

    def per_class(self, head: str, classes: Sequence[str]) -> list[tuple[str, int, float, float]]:
        """(class, support, precision, recall) per class."""
        rows = []
        pairs = list(zip(self.labels[head], self.predicted[head], strict=True))
        for c in classes:
            tp = sum(1 for a, b in pairs if a == c and b == c)
            said = sum(1 for _, b in pairs if b == c)
            support = sum(1 for a, _ in pairs if a == c)
            rows.append((c, support, tp / said if said else 0.0, tp / support if support else 0.0))
        return rows

    def confusion(self, head: str, classes: Sequence[str]) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = {c: Counter() for c in classes}
        for a, b in zip(self.labels[head], self.predicted[head], strict=True):
            out.setdefault(a, Counter())[b] += 1
        return out

    def summary(self) -> dict[str, Any]:
        hit, total = self.emergency_recall()
        hit_q, _ = self.emergency_recall(with_questions=True)
        false, negatives = self.false_emergencies()
        return {"messages": self.n, "emergencies": total,
                "emergency_recall": hit / total if total else None,
                "emergency_recall_with_questions": hit_q / total if total else None,
                "false_emergency_rate": false / negatives if negatives else None,
                "priority_accuracy": self.accuracy("priority"), "trade_accuracy": self.accuracy("trade"),
                "hazard_accuracy": self.accuracy("hazard"), "asked": sum(self.asked)}


HEAD_CLASSES: dict[str, tuple[str, ...]] = {
    "priority": tuple(p.value for p in Priority),
    "trade": tuple(t.value for t in Trade),
    "hazard": tuple(h.value for h in Hazard),
}


def evaluate(examples: Sequence[Example], classifier: Classifier) -> tuple[Report, list[float]]:
    """Run ``classifier`` over ``examples``; returns the report and each call's milliseconds."""
    report = Report(n=len(examples), labels={h: [] for h in HEAD_CLASSES}, predicted={h: [] for h in HEAD_CLASSES})
    timings: list[float] = []
    for example in examples:
        start = time.perf_counter()
        decision = classifier(example.text)
        timings.append((time.perf_counter() - start) * 1000)
        for head in HEAD_CLASSES:
            report.labels[head].append(getattr(example, head).value)
            report.predicted[head].append(getattr(decision, head))
        report.asked.append(decision.ask)
    return report, timings


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{100 * value:5.1f}%"


def render(report: Report, title: str) -> str:
    s = report.summary()
    hit, total = report.emergency_recall()
    hit_q, _ = report.emergency_recall(with_questions=True)
    false, negatives = report.false_emergencies()
    lines = [
        f"== {title}: {s['messages']} messages, {total} emergencies",
        f"emergency recall        {_pct(s['emergency_recall'])}  ({hit}/{total})",
        f"  with safety questions {_pct(s['emergency_recall_with_questions'])}  ({hit_q}/{total}; "
        f"{s['asked']} messages asked)",
        f"false emergencies       {_pct(s['false_emergency_rate'])}  ({false}/{negatives} non-emergencies)",
        f"priority accuracy       {_pct(s['priority_accuracy'])}",
        f"trade accuracy          {_pct(s['trade_accuracy'])}",
        f"hazard accuracy         {_pct(s['hazard_accuracy'])}",
    ]
    return "\n".join(lines)


def render_classes(report: Report) -> str:
    lines: list[str] = []
    for head, classes in HEAD_CLASSES.items():
        present = [c for c in classes if c in report.labels[head] or c in report.predicted[head]]
        lines.append(f"\n-- {head}: per class")
        lines.append(f"{'class':<18}{'n':>5}{'precision':>11}{'recall':>9}")
        for c, support, precision, recall in report.per_class(head, present):
            lines.append(f"{c:<18}{support:>5}{_pct(precision):>11}{_pct(recall):>9}")
        short = {c: c[:6] for c in present}
        lines.append(f"\n-- {head}: confusion (rows: label, columns: triage)")
        lines.append(f"{'':<18}" + "".join(f"{short[c]:>7}" for c in present))
        matrix = report.confusion(head, present)
        for c in present:
            lines.append(f"{c:<18}" + "".join(f"{matrix[c][p]:>7}" for p in present))
    return "\n".join(lines)


def full_report(examples: Sequence[Example], classifier: Classifier, title: str,
                timed: bool = True) -> tuple[str, dict[str, Any]]:
    """The printed report (overall, per-class, confusion matrices, then per language) and its figures; `timed`:
    with the classifier's speed (not for another labeller's labels)."""
    report, timings = evaluate(examples, classifier)
    parts = [render(report, title), render_classes(report)]
    figures: dict[str, Any] = {"all": report.summary(),
                               "classify_ms_median": statistics.median(timings) if timings and timed else None}
    for language in ("en", "es"):
        subset = [e for e in examples if e.language == language]
        if subset:
            sub, _ = evaluate(subset, classifier)
            parts.append("\n" + render(sub, f"{title} [{language}]"))
            figures[language] = sub.summary()
    if timings and timed:
        parts.append(f"\nclassify(): median {statistics.median(timings):.2f} ms, "
                     f"p95 {sorted(timings)[int(0.95 * (len(timings) - 1))]:.2f} ms over {len(timings)} messages")
    return "\n".join(parts), figures
