"""Patch: Step Functions parses a state machine's definition once, not at every execution start.

moto's interpreter (from LocalStack) runs the ANTLR parser over the whole ASL each time an execution
starts: with this project's 45-state machine that was most of the time between ``StartExecution`` and
the first Task (a few hundred ms on a loaded machine, ahead of every work order's triage). AWS does not
pay this per execution, so the emulation should not. The parse tree is cached per definition text; each
execution still gets its own evaluation components (``Preprocessor().visit``), so nothing an execution
changes is shared with another.

Building those components still cost about 35 ms of CPU per execution with this definition (on the request ->
vendor-offer path, ahead of triage), most of it in two pure functions of the read-only tree, now kept:

* ``getText`` of a tree node concatenates the text of its whole subtree, again at every call (the preprocessor
  asks for it at most nodes): a cached tree's nodes carry their text, computed once, bottom-up, before the tree
  is shared; a node of any other tree (one being parsed, or moto's own validation parse) computes it as before.
* every string literal is decoded with ``ast.literal_eval`` (moto's ``from_string_literal``): each text's
  answer is kept (bounded).
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


KEPT_TEXT = "_localcloud_text"  # the attribute a cached tree's node keeps its text in


def keep_texts(tree: Any) -> None:
    """Store every node's ``getText()`` on it, children first (iterative: trees are deep)."""
    from antlr4 import ParserRuleContext

    pending: list[tuple[Any, bool]] = [(tree, False)]
    while pending:
        node, children_done = pending.pop()
        if not isinstance(node, ParserRuleContext):
            setattr(node, KEPT_TEXT, node.getText())  # a terminal: its token's text
        elif children_done:
            setattr(node, KEPT_TEXT, "".join(getattr(child, KEPT_TEXT) for child in node.children or ()))
        else:
            pending.append((node, True))
            pending.extend((child, False) for child in node.children or ())


def parse_tree(definition: str) -> Any:
    """The parse tree of a definition, parsed once; syntax errors raise as moto's parser raises them."""
    tree = _trees.get(definition)
    if tree is None:
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

        _, tree = AmazonStateLanguageParser.parse(definition)
        keep_texts(tree)
        with _lock:
            if len(_trees) >= MAX_CACHED:
                _trees.clear()
            _trees[definition] = tree
    return tree


def _kept_get_text() -> None:
    from antlr4.RuleContext import RuleContext
    from antlr4.tree.Tree import TerminalNodeImpl

    for cls in (RuleContext, TerminalNodeImpl):
        def get_text(self: Any, _computed: Any = cls.getText) -> str:
            kept = getattr(self, KEPT_TEXT, None)
            return _computed(self) if kept is None else kept

        cls.getText = get_text  # type: ignore[method-assign]


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
        _kept_get_text()
        _applied = True
