"""`opslayer triage cv`: out-of-fold figures on the training pool; near copies of a blind set."""

from __future__ import annotations

import random
from pathlib import Path

from infra.cli import main
from infra.triage.crossval import batch_folds, batch_of, cv_report, decisions, fold_of, out_of_fold_opinions
from infra.triage.dataset import Example, near_copies, word_set
from infra.triage.train import Settings, train
from shared.domain.triage import classify_rules
from shared.domain.triage_model import parse_model


def ex(n: int, text: str, trade: str, priority: str, hazard: str = "none", language: str = "en") -> Example:
    return Example(id=f"x-{n}", channel="sms", language=language, text=text, trade=trade, priority=priority,
                   hazard=hazard)


POOL = [
    ex(1, "water pouring from the ceiling everywhere", "plumbing", "emergency", "water"),
    ex(2, "the kitchen faucet drips a little", "plumbing", "routine"),
    ex(3, "pipe burst water everywhere in the kitchen", "plumbing", "emergency", "water"),
    ex(4, "faucet drips slowly in the bathroom", "plumbing", "routine"),
    ex(5, "the bedroom outlet is dead", "electrical", "urgent"),
    ex(6, "outlet in the living room stopped working", "electrical", "urgent"),
    ex(7, "sale mucha agua del techo", "plumbing", "emergency", "water", "es"),
    ex(8, "la pintura del cuarto se está pelando", "general", "routine", language="es"),
]
FAST = Settings(iterations=40, rule_features=True)


def test_each_message_is_judged_by_the_model_that_did_not_learn_it():
    opinions = out_of_fold_opinions(POOL, FAST, k=2, cache=None)
    held_out_of_0 = parse_model(train([e for i, e in enumerate(POOL) if fold_of(i, 2) != 0], FAST, "cv-fold-0"))
    for i, example in enumerate(POOL):
        if fold_of(i, 2) == 0:
            assert opinions[i] == held_out_of_0.predict(example.text, classify_rules(example.text).matched_rules)
    trained_on_all = parse_model(train(POOL, FAST, "cv-fold-0"))
    assert opinions[0] != trained_on_all.predict(POOL[0].text, classify_rules(POOL[0].text).matched_rules)


def test_the_cache_returns_the_same_opinions(tmp_path: Path):
    first = out_of_fold_opinions(POOL, FAST, k=2, cache=tmp_path)
    assert len(list(tmp_path.iterdir())) == 1
    assert out_of_fold_opinions(POOL, FAST, k=2, cache=tmp_path) == first
    out_of_fold_opinions(POOL, Settings(iterations=41, rule_features=True), k=2, cache=tmp_path)
    assert len(list(tmp_path.iterdir())) == 2  # other settings: other fold models


def test_the_report_is_the_eval_report_of_the_out_of_fold_decisions():
    said = decisions(POOL, out_of_fold_opinions(POOL, FAST, k=2, cache=None))
    text, figures = cv_report(POOL, said, "pool")
    assert "-- priority: confusion (rows: label, columns: triage)" in text and "pool [es]" in text
    emergencies = [d for e, d in zip(POOL, said, strict=True) if e.priority == "emergency"]
    assert figures["all"]["emergency_recall"] == sum(d.priority == "emergency" for d in emergencies) / 3


def test_the_batch_split_keeps_every_batch_inside_one_fold_and_each_blind_set_in_its_own():
    sizes = {"b1": 4, "b2": 4, "c1": 5, "h1": 3, "h2": 3, "t1": 6, "t2": 5, "t10": 5, "t3": 2, "d1": 3}
    ids = [f"{batch}-{n}" for batch, size in sizes.items() for n in range(size)]
    folds = batch_folds(ids, training_folds=3)
    fold_of_batch: dict[str, set[int]] = {}
    for message_id, fold in zip(ids, folds, strict=True):
        fold_of_batch.setdefault(batch_of(message_id), set()).add(fold)
    assert all(len(f) == 1 for f in fold_of_batch.values())  # no batch is split
    one = {b: f.pop() for b, f in fold_of_batch.items()}
    # Retired blind sets A (b), B (c), F (h): one fold each, in letter order; their batches together.
    assert (one["b1"], one["b2"], one["c1"], one["h1"], one["h2"]) == (0, 0, 1, 2, 2)
    # Training batches (t, d) dealt largest first to the lightest of 3 more folds: t1 6 | t2 5 + d1 3 | t10 5 + t3 2.
    assert (one["t1"], one["t2"], one["t10"], one["d1"], one["t3"]) == (3, 4, 5, 4, 5)
    assert batch_folds(list(reversed(ids))) == list(reversed(folds))  # the file's order does not matter


def test_the_batch_split_judges_each_batch_by_a_model_that_saw_none_of_it():
    pool = [e.model_copy(update={"id": f"{'b1' if i % 2 else 't1'}-{i}"}) for i, e in enumerate(POOL)]
    folds = batch_folds([e.id for e in pool], training_folds=1)
    assert folds == [1, 0] * 4
    opinions = out_of_fold_opinions(pool, FAST, cache=None, folds=folds)
    without_b1 = parse_model(train([e for e in pool if e.id.startswith("t1-")], FAST, "cv-fold-0"))
    assert opinions[1] == without_b1.predict(pool[1].text, classify_rules(pool[1].text).matched_rules)


def test_the_cv_command_prints_the_figures(tmp_path: Path, capsys):
    corpus = tmp_path / "pool.jsonl"
    corpus.write_text("".join(e.model_dump_json() + "\n" for e in POOL))
    assert main(["triage", "cv", "--corpus", str(corpus), "--folds", "2", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "pool.jsonl (2-fold, out of fold): 8 messages, 3 emergencies" in out and "confusion" in out
    by_batch = tmp_path / "batches.jsonl"
    by_batch.write_text("".join(e.model_copy(update={"id": f"{'c1' if i < 4 else 't1'}-{i}"}).model_dump_json()
                                + "\n" for i, e in enumerate(POOL)))
    assert main(["triage", "cv", "--corpus", str(by_batch), "--by-batch", "--no-cache"]) == 0
    assert "batches.jsonl (2 folds by batch, out of fold): 8 messages" in capsys.readouterr().out


def test_near_copies_of_a_blind_message_are_found_by_word_overlap():
    blind = [ex(100, "Water is pouring from the ceiling, everywhere!", "plumbing", "emergency", "water")]
    assert near_copies(POOL, blind) == {"x-1": "x-100"}  # same words, other punctuation and case
    assert near_copies(POOL, blind, threshold=1.01) == {}


def test_the_prefix_filter_finds_exactly_what_comparing_every_pair_finds():
    def ex(n: int, text: str) -> Example:
        return Example(id=f"m-{n}", channel="sms", language="en", text=text, trade="plumbing", priority="routine",
                       hazard="none")

    words = ["sink", "leak", "water", "floor", "kitchen", "under", "pipe", "drip", "bucket", "night", "tap",
             "cold", "hot", "valve", "wall"]
    rng = random.Random(5)
    blind = [ex(n, " ".join(rng.sample(words, rng.randint(3, 9)))) for n in range(60)]
    pool = [ex(1000 + n, " ".join(rng.sample(words, rng.randint(2, 10)))) for n in range(300)]
    for threshold in (0.3, 0.5, 0.6, 0.8):
        brute = {}
        for p in pool:
            a = word_set(p.text)
            for b in blind:
                if len(a & word_set(b.text)) / len(a | word_set(b.text)) >= threshold:
                    brute[p.id] = b.id
                    break
        assert near_copies(pool, blind, threshold) == brute
