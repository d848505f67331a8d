"""Cross-validated figures on the training pool: ``opslayer triage cv``.

The rules and the combination policy are tuned on the training pool, so their figures must come from
messages the model did not learn: the pool is split into folds, a model is trained on the other folds for
each fold, and every message is triaged by the rules and by the model that never saw it (out-of-fold
predictions), combined as production does (:func:`shared.domain.triage.combine`). The report has the same
figures, per-class tables and confusion matrices as ``opslayer triage eval``.

Two ways to split the pool:
- by index (the default): message ``i`` is in fold ``i % k``, so every fold model trains on the siblings (same
  writer, same batch) of the messages it is asked about.
- by batch (``--by-batch``, :func:`batch_folds`): every source batch (the id's prefix, ``t3``, ``b2``, ``h1``)
  lies wholly inside one fold; each retired blind set is a fold of its own and the training batches are dealt
  over a few more. Every blind set is a new batch by new writers, so this is the split to tune on; its folds
  also show each batch on its own. (Measured on the pool, the two splits give the same totals: the pool's
  figures run above the blind sets' because the rules were written from the older batches' misses, which a
  batch's own fold shows - F's fold, written from by no rule, matched F's blind figures.)

Training a fold model takes minutes, so the out-of-fold opinions are cached (keyed by the corpus, the
training settings and the feature/training code): trying other rules or policies re-uses them.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.triage.dataset import Example
from infra.triage.evaluate import Decision, Report, evaluate, render, render_classes
from infra.triage.train import Settings, message_features, train
from shared.domain.triage import Policy, TriageRules, classify_rules, combine, load_rules
from shared.domain.triage_model import Opinion, parse_model

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "opslayer-triage-cv"
# Besides the corpus and the settings, the fold models depend on the trainer and the feature code.
_CODE = (Path(__file__).resolve().parent / "train.py",
         Path(__file__).resolve().parents[2] / "shared" / "domain" / "triage_model.py")


TRAINING_BATCH_LETTERS = frozenset({"t", "d"})  # training sets and the first development set; the rest are blind sets
TRAINING_FOLDS = 3  # the training batches are dealt over this many folds of the batch split


def fold_of(index: int, k: int) -> int:
    return index % k


def index_folds(n: int, k: int) -> list[int]:
    """Message ``i`` in fold ``i % k``."""
    return [fold_of(i, k) for i in range(n)]


def batch_of(message_id: str) -> str:
    """The source batch of a pool message: its id's prefix before the first ``-`` (``t3``, ``b2``, ``h1``)."""
    return message_id.split("-", 1)[0]


def blind_set_of(batch: str) -> str | None:
    """The retired blind set a batch belongs to (its letter: ``b1``..``b4`` are set A, ``h1``..``h3`` set F), or
    None for a training batch (``t``: training sets, ``d``: the first development set)."""
    letter = batch.rstrip("0123456789")
    return None if letter in TRAINING_BATCH_LETTERS else letter


def batch_folds(ids: Sequence[str], training_folds: int = TRAINING_FOLDS) -> list[int]:
    """Each message's fold when no batch is split: one fold per retired blind set (in the order of their letters),
    then ``training_folds`` folds over which the training batches are dealt, largest first (ties in the order of
    letter and number), each to the training fold that has the fewest messages so far."""
    sizes = Counter(batch_of(i) for i in ids)

    def order(batch: str) -> tuple[str, int]:
        letter = batch.rstrip("0123456789")
        return letter, int(batch[len(letter):] or 0)

    blind_sets = sorted({s for s in map(blind_set_of, sizes) if s is not None})
    fold_of_batch = {b: blind_sets.index(s) for b in sizes if (s := blind_set_of(b)) is not None}
    loads = [0] * training_folds
    for batch in sorted((b for b in sizes if blind_set_of(b) is None), key=lambda b: (-sizes[b], order(b))):
        lightest = min(range(training_folds), key=lambda f: (loads[f], f))
        fold_of_batch[batch] = len(blind_sets) + lightest
        loads[lightest] += sizes[batch]
    return [fold_of_batch[batch_of(i)] for i in ids]


def _cache_key(examples: Sequence[Example], settings: Settings, folds: Sequence[int]) -> str:
    """The messages' labels and features as the model sees them (so a rule change that changes which rules
    fire invalidates the cache, and a policy change does not), the settings, each message's fold and the
    training code."""
    digest = hashlib.sha256()
    for example, feats in zip(examples, message_features(examples, settings), strict=True):
        labels = (example.priority, example.trade, example.hazard, example.language)
        digest.update(json.dumps([labels, feats]).encode())
    digest.update(json.dumps(settings.__dict__, sort_keys=True).encode())
    digest.update(json.dumps(list(folds)).encode())
    for path in _CODE:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def out_of_fold_opinions(examples: Sequence[Example], settings: Settings | None = None, k: int = 5,
                         cache: Path | None = DEFAULT_CACHE, progress: bool = False,
                         folds: Sequence[int] | None = None) -> list[Opinion]:
    """For every example, the opinion of the model trained on the other folds: ``folds`` gives each example's
    fold (e.g. :func:`batch_folds`); by default message ``i`` is in fold ``i % k``."""
    settings = settings or Settings()
    folds = list(folds) if folds is not None else index_folds(len(examples), k)
    if len(folds) != len(examples):
        raise ValueError(f"{len(folds)} folds given for {len(examples)} examples")
    file = cache / f"oof-{_cache_key(examples, settings, folds)}.json" if cache else None
    if file and file.exists():
        return [Opinion(**o) for o in json.loads(file.read_text(encoding="utf-8"))]
    opinions: list[Opinion | None] = [None] * len(examples)
    names = sorted(set(folds))
    for n, fold in enumerate(names, start=1):
        start = time.perf_counter()
        model = parse_model(train([e for e, f in zip(examples, folds, strict=True) if f != fold], settings,
                                  version=f"cv-fold-{fold}"))
        for i, example in enumerate(examples):
            if folds[i] == fold:
                opinions[i] = model.predict(example.text, classify_rules(example.text).matched_rules)
        if progress:
            print(f"fold {n}/{len(names)} trained and predicted in {time.perf_counter() - start:.0f} s", flush=True)
    done = [o for o in opinions if o is not None]
    if file:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps([o.__dict__ for o in done]), encoding="utf-8")
    return done


def decisions(examples: Sequence[Example], opinions: Sequence[Opinion], rules: TriageRules | None = None,
              policy: Policy | None = None) -> list[Decision]:
    """Each example triaged by the rules and its out-of-fold opinion, combined by ``policy`` (the rules')."""
    ruleset = rules or load_rules()
    policy = policy or ruleset.policy
    out = []
    for example, opinion in zip(examples, opinions, strict=True):
        r = combine(classify_rules(example.text, ruleset), opinion, policy)
        out.append(Decision(r.trade.value, r.priority.value, r.hazard.value if r.emergency else "none", r.ask))
    return out


def report_of(examples: Sequence[Example], said: Sequence[Decision]) -> Report:
    by_position = iter(said)
    report, _ = evaluate(examples, lambda _text: next(by_position))
    return report


def cv_report(examples: Sequence[Example], said: Sequence[Decision], title: str) -> tuple[str, dict[str, Any]]:
    """The printed cross-validated report (overall, per class, confusion, per language) and its figures."""
    report = report_of(examples, said)
    parts = [render(report, title), render_classes(report)]
    figures: dict[str, Any] = {"all": report.summary()}
    for language in ("en", "es"):
        chosen = [(e, d) for e, d in zip(examples, said, strict=True) if e.language == language]
        if chosen:
            sub = report_of([e for e, _ in chosen], [d for _, d in chosen])
            parts.append("\n" + render(sub, f"{title} [{language}]"))
            figures[language] = sub.summary()
    return "\n".join(parts), figures
