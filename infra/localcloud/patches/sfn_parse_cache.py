"""Patch: Step Functions parses a state machine's definition once, not at every execution start.

moto's interpreter (from LocalStack) runs the ANTLR parser over the whole ASL each time an execution
starts: with this project's 45-state machine that was most of the time between ``StartExecution`` and
the first Task (a few hundred ms on a loaded machine, ahead of every work order's triage). AWS does not
pay this per execution, so the emulation should not. The parse tree is cached per definition text; each
execution still gets its own evaluation components (``Preprocessor().visit``), so nothing an execution
changes is shared with another.

Building those components decodes every string literal of the definition with ``ast.literal_eval`` (moto's
``from_string_literal``): the largest part of that per-execution work (about a tenth of the local cloud's CPU
on the request -> vendor-offer path). The decoding is a pure function of the literal's text: here each text's
answer is kept (bounded), and each execution still builds its own components from it.
"""

from __future__ import annotations

import ast
import functools
import threading
from typing import Any

_applied = False
_lock = threading.Lock()
_trees: dict[str, Any] = {}  # definition text -> ANTLR parse tree (read-only once built)
MAX_CACHED = 32
LITERALS_CACHED = 8192  # distinct string literals kept (a 45-state machine has a few hundred)


@functools.lru_cache(LITERALS_CACHED)
def decode_string_literal(text: str) -> str:
    """moto's ``from_string_literal`` on a literal's text: the quotes dropped, escape sequences interpreted
    (the text as it is when they do not parse)."""
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    try:
        return ast.literal_eval(f'"{text}"')
    except Exception:  # as moto: an undecodable literal stays as written
        return text


def from_string_literal(parser_rule_context: Any) -> str:
    return decode_string_literal(parser_rule_context.getText())


def parse_tree(definition: str) -> Any:
    """The parse tree of a definition, parsed once; syntax errors raise as moto's parser raises them."""
    tree = _trees.get(definition)
    if tree is None:
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

        _, tree = AmazonStateLanguageParser.parse(definition)
        with _lock:
            if len(_trees) >= MAX_CACHED:
                _trees.clear()
            _trees[definition] = tree
    return tree


def apply() -> None:
    """Idempotent."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
        from moto.stepfunctions.parser.backend import execution_worker

        def _get_evaluation_entrypoint(self: Any) -> Any:
            definition = self._evaluation_details.state_machine_details.definition
            return Preprocessor().visit(parse_tree(definition))

        execution_worker.ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint  # type: ignore[method-assign]
        from moto.stepfunctions.parser.asl.parse import preprocessor

        preprocessor.from_string_literal = from_string_literal  # type: ignore[attr-defined]
        _applied = True
