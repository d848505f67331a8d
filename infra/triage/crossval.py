"""Cross-validated figures on the training pool: ``opslayer triage cv``.

The rules and the combination policy are tuned on the training pool, so their figures must come from
messages the model did not learn: the pool is split into ``k`` folds (message ``i`` is in fold
``i % k``), a model is trained on the other folds for each fold, and every message is triaged by the
rules and by the model that never saw it (out-of-fold predictions), combined as production does
(:func:`shared.domain.triage.combine`). The report has the same figures, per-class tables and confusion
matrices as ``opslayer triage eval``.

Training a fold model takes minutes, so the out-of-fold opinions are cached (keyed by the corpus, the
training settings and the feature/training code): trying other rules or policies re-uses them.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
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


def fold_of(index: int, k: int) -> int:
    return index % k


def _cache_key(examples: Sequence[Example], settings: Settings, k: int) -> str:
    """The messages' labels and features as the model sees them (so a rule change that changes which rules
    fire invalidates the cache, and a policy change does not), the settings, k and the training code."""
    digest = hashlib.sha256()
    for example, feats in zip(examples, message_features(examples, settings), strict=True):
        labels = (example.priority, example.trade, example.hazard, example.language)
        digest.update(json.dumps([labels, feats]).encode())
    digest.update(json.dumps(settings.__dict__, sort_keys=True).encode())
    digest.update(str(k).encode())
    for path in _CODE:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def out_of_fold_opinions(examples: Sequence[Example], settings: Settings | None = None, k: int = 5,
                         cache: Path | None = DEFAULT_CACHE, progress: bool = False) -> list[Opinion]:
    """For every example, the opinion of the model trained on the other ``k - 1`` folds."""
    settings = settings or Settings()
    file = cache / f"oof-{_cache_key(examples, settings, k)}.json" if cache else None
    if file and file.exists():
        return [Opinion(**o) for o in json.loads(file.read_text(encoding="utf-8"))]
    opinions: list[Opinion | None] = [None] * len(examples)
    for fold in range(k):
        start = time.perf_counter()
        model = parse_model(train([e for i, e in enumerate(examples) if fold_of(i, k) != fold], settings,
                                  version=f"cv-fold-{fold}"))
        for i, example in enumerate(examples):
            if fold_of(i, k) == fold:
                opinions[i] = model.predict(example.text, classify_rules(example.text).matched_rules)
        if progress:
            print(f"fold {fold + 1}/{k} trained and predicted in {time.perf_counter() - start:.0f} s", flush=True)
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
