"""A practical subset of AWS IoT SQL (version 2016-03-23), parsed once and evaluated per message.

Supported (anything else raises :class:`UnsupportedIotSql` when the rule is deployed):

* ``SELECT <items> FROM '<topic filter>' [WHERE <condition>]``; keywords are case-insensitive.
* Items: ``*`` (the whole payload), field paths (``a``, ``b.c``), string/number/boolean literals and
  the functions ``topic()``, ``topic(n)`` (1-based level, Undefined when out of range),
  ``timestamp()`` (milliseconds since the epoch, wall clock) and ``clientid()`` (always ``""``: HTTP
  publishes have no MQTT client). Each item may be renamed with ``AS name``; literals and functions
  must be. Without ``AS`` a path is named by its last segment (``b.c`` -> ``c``).
* ``WHERE``: comparisons ``=``, ``<>`` (``!=``), ``<``, ``>``, ``<=``, ``>=`` between paths, literals
  (numbers may be negative) and functions; ``AND``, ``OR``, ``NOT`` and parentheses.
* The topic filter may use the MQTT wildcards ``+`` (one level) and ``#`` (the rest, last level
  only). As in MQTT, wildcards at the first level do not match topics starting with ``$``.

Semantics follow the AWS IoT SQL reference: a missing field is *Undefined*; an Undefined item is
left out of the output; a comparison with Undefined (or between types that do not compare) is
Undefined; ``AND``/``OR``/``NOT`` take booleans or the strings ``"true"``/``"false"`` and are
Undefined otherwise, except that a decisive operand wins as in SQL (``true OR Undefined`` is true,
``false AND Undefined`` is false -- the AWS operator tables only cover two non-boolean operands);
only a WHERE that evaluates to ``true`` lets the message through. Numbers
compare numerically, a number and a numeric string compare as numbers, two strings compare
lexicographically.

Payloads that are not JSON: ``SELECT *`` alone forwards the payload bytes unchanged (as AWS does
for binary payloads); field paths in SELECT/WHERE are Undefined for them; ``SELECT *`` together with
other items needs an empty or JSON-object payload (AWS: "If you have an empty or a JSON payload,
the resulting payload can have data added"), otherwise evaluation fails with
:class:`IotSqlEvaluationError` and the rule does not fire (on AWS that is logged, not an action
error).

Not supported: the ``SET`` clause, ``SELECT VALUE``, ``IN``/``LIKE``/``IS``, ``CASE``, arithmetic,
string concatenation, array indexing, any other function, and SQL versions other than
``2016-03-23`` (``beta`` is treated the same).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SUPPORTED_SQL_VERSIONS = ("2016-03-23", "beta")


class UnsupportedIotSql(ValueError):
    """The rule's SQL uses something the local cloud does not evaluate (raised at deploy time)."""


class IotSqlEvaluationError(RuntimeError):
    """The SQL could not be evaluated for one message (the rule does not fire for it)."""


class _Undefined:
    """IoT SQL's ``Undefined``: a missing field or the result of an invalid operation."""

    def __repr__(self) -> str:
        return "Undefined"


UNDEFINED: Any = _Undefined()


@dataclass(frozen=True)
class Message:
    """What a rule sees of one publish."""

    topic: str
    payload: bytes
    document: Any = UNDEFINED  # the payload parsed as JSON; UNDEFINED when it is not JSON
    client_id: str = ""

    @classmethod
    def of(cls, topic: str, payload: bytes, client_id: str = "") -> Message:
        try:
            document = json.loads(payload) if payload.strip() else UNDEFINED
        except (ValueError, UnicodeDecodeError):
            document = UNDEFINED
        return cls(topic, payload, document, client_id)


Expr = Callable[[Message], Any]


# ------------------------------------------------------------------------------------ topics
def validate_topic_filter(topic_filter: str) -> None:
    if not topic_filter:
        raise UnsupportedIotSql("the FROM topic filter is empty")
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise UnsupportedIotSql(f"topic filter {topic_filter!r}: '#' must be a whole, last level")
        if "+" in level and level != "+":
            raise UnsupportedIotSql(f"topic filter {topic_filter!r}: '+' must be a whole level")


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT topic filter matching: ``+`` is one level, ``#`` the rest (including none)."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels):
            return False
        if level not in ("+", topic_levels[index]):
            return False
    return len(filter_levels) == len(topic_levels)


# ------------------------------------------------------------------------------------ tokens
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*')
      | (?P<number>\d+\.\d*|\.\d+|\d+)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><>|!=|<=|>=|=|<|>)
      | (?P<punct>[(),.*\[\]+\-/%|])
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"SELECT", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "TRUE", "FALSE"}


@dataclass
class _Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def _tokenize(sql: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while sql[pos:].strip():
        match = _TOKEN.match(sql, pos)
        if match is None:
            start = pos + len(sql[pos:]) - len(sql[pos:].lstrip())
            raise UnsupportedIotSql(f"unsupported syntax at {sql[start:start + 20]!r} (position {start})")
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(_Token("end", "", len(sql)))
    return tokens


def _unquote(literal: str) -> str:
    body = literal[1:-1].replace("''", "'")
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


# ------------------------------------------------------------------------------------ query
@dataclass
class SelectItem:
    name: str | None  # None for ``*``
    expr: Expr | None


@dataclass
class Query:
    """A parsed rule SQL statement."""

    sql: str
    topic_filter: str
    items: list[SelectItem]
    where: Expr | None = None
    star: bool = field(init=False)

    def __post_init__(self) -> None:
        self.star = any(item.expr is None for item in self.items)

    def matches_topic(self, topic: str) -> bool:
        return topic_matches(self.topic_filter, topic)

    def evaluate(self, message: Message) -> bytes | dict[str, Any] | None:
        """The rule's output for one message: raw bytes (``SELECT *`` alone), a JSON object, or
        ``None`` when the topic does not match or WHERE is not true."""
        if not self.matches_topic(message.topic):
            return None
        if self.where is not None and self.where(message) is not True:
            return None
        if self.star and len(self.items) == 1:
            return message.payload
        output: dict[str, Any] = {}
        if self.star:
            if isinstance(message.document, dict):
                output.update(message.document)
            elif message.payload.strip():
                raise IotSqlEvaluationError("SELECT * with other items needs an empty or JSON-object payload")
        for item in self.items:
            if item.expr is None or item.name is None:
                continue
            value = item.expr(message)
            if value is not UNDEFINED:
                output[item.name] = value
        return output


# ------------------------------------------------------------------------------------ parser
class _Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.tokens = _tokenize(sql)
        self.index = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def _next(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _is_keyword(self, word: str) -> bool:
        return self.token.kind == "ident" and self.token.upper == word

    def _expect_keyword(self, word: str) -> None:
        if not self._is_keyword(word):
            raise self._error(f"expected {word}")
        self.index += 1

    def _expect(self, text: str) -> None:
        if self.token.text != text:
            raise self._error(f"expected {text!r}")
        self.index += 1

    def _error(self, what: str) -> UnsupportedIotSql:
        token = self.token
        found = repr(token.text) if token.kind != "end" else "end of statement"
        return UnsupportedIotSql(f"{what} at position {token.pos}, found {found}")

    def parse(self) -> Query:
        if self._is_keyword("SET"):
            raise self._error("the SET clause is not supported")
        self._expect_keyword("SELECT")
        if self._is_keyword("VALUE"):
            raise self._error("SELECT VALUE is not supported")
        items = [self._item()]
        while self.token.text == ",":
            self.index += 1
            items.append(self._item())
        if sum(1 for item in items if item.expr is None) > 1:
            raise self._error("'*' may appear once")
        if not self._is_keyword("FROM"):
            raise self._error("a FROM '<topic filter>' clause is required (Basic Ingest is not emulated)")
        self.index += 1
        if self.token.kind != "string":
            raise self._error("the FROM clause needs a quoted topic filter")
        topic_filter = _unquote(self._next().text)
        validate_topic_filter(topic_filter)
        where = None
        if self._is_keyword("WHERE"):
            self.index += 1
            where = self._or()
        if self.token.kind != "end":
            raise self._error("unsupported clause or operator")
        return Query(self.sql, topic_filter, items, where)

    def _item(self) -> SelectItem:
        if self.token.text == "*":
            self.index += 1
            return SelectItem(None, None)
        start = self.token
        expr, name = self._operand()
        if self._is_keyword("AS"):
            self.index += 1
            if self.token.kind != "ident" or self.token.upper in _KEYWORDS:
                raise self._error("expected a name after AS")
            name = self._next().text
        if name is None:
            raise UnsupportedIotSql(f"the SELECT item at position {start.pos} needs a name: add 'AS <name>'")
        return SelectItem(name, expr)

    def _or(self) -> Expr:
        left = self._and()
        while self._is_keyword("OR"):
            self.index += 1
            left = _logical(left, self._and(), "OR")
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self._is_keyword("AND"):
            self.index += 1
            left = _logical(left, self._not(), "AND")
        return left

    def _not(self) -> Expr:
        if self._is_keyword("NOT"):
            self.index += 1
            inner = self._not()

            def negate(message: Message) -> Any:
                value = _as_bool(inner(message))
                return UNDEFINED if value is UNDEFINED else not value

            return negate
        return self._comparison()

    def _comparison(self) -> Expr:
        left = self._term()
        if self.token.kind == "op":
            op = self._next().text
            right = self._term()
            return lambda message: _compare(op, left(message), right(message))
        for word in ("IN", "LIKE", "IS", "BETWEEN"):
            if self._is_keyword(word):
                raise self._error(f"the {word} operator is not supported")
        return left

    def _term(self) -> Expr:
        if self.token.text == "(":
            self.index += 1
            inner = self._or()
            self._expect(")")
            return inner
        expr, _ = self._operand()
        return expr

    def _operand(self) -> tuple[Expr, str | None]:
        token = self.token
        if token.kind == "string":
            self.index += 1
            text = _unquote(token.text)
            return (lambda message: text), None
        negative = token.text == "-" and self.tokens[self.index + 1].kind == "number"
        if token.kind == "number" or negative:
            if negative:
                self.index += 1
                token = self.token
            self.index += 1
            number: int | float = float(token.text) if "." in token.text else int(token.text)
            value = -number if negative else number
            return (lambda message: value), None
        if token.kind == "ident" and token.upper in ("TRUE", "FALSE"):
            self.index += 1
            flag = token.upper == "TRUE"
            return (lambda message: flag), None
        if token.kind == "ident" and token.upper not in _KEYWORDS:
            self.index += 1
            if self.token.text == "(":
                return self._function(token), None
            path = [token.text]
            while self.token.text == ".":
                self.index += 1
                if self.token.kind != "ident":
                    raise self._error("expected a field name after '.'")
                path.append(self._next().text)
            if self.token.text == "[":
                raise self._error("array indexing is not supported")
            if self.token.text in ("+", "-", "*", "/", "%", "|"):
                raise self._error("arithmetic and concatenation are not supported")
            return _path(path), path[-1]
        if token.text in ("-", "+", "/", "%", "|", "*"):
            raise self._error("arithmetic and concatenation are not supported")
        raise self._error("expected a field, literal or function")

    def _function(self, name_token: _Token) -> Expr:
        name = name_token.text.lower()
        self._expect("(")
        args: list[int] = []
        while self.token.text != ")":
            if name != "topic" or self.token.kind != "number":
                raise UnsupportedIotSql(
                    f"function {name_token.text}(...) at position {name_token.pos} is not supported; "
                    "supported: topic(), topic(n), timestamp(), clientid()"
                )
            args.append(int(self._next().text))
        self._expect(")")
        if name == "topic":
            if not args:
                return lambda message: message.topic
            level = args[0]

            def topic_level(message: Message) -> Any:
                levels = message.topic.split("/")
                return levels[level - 1] if 1 <= level <= len(levels) else UNDEFINED

            return topic_level
        if name == "timestamp":
            return lambda message: int(time.time() * 1000)
        if name == "clientid":
            return lambda message: message.client_id
        raise UnsupportedIotSql(
            f"function {name_token.text}() at position {name_token.pos} is not supported; "
            "supported: topic(), topic(n), timestamp(), clientid()"
        )


# ------------------------------------------------------------------------------------ semantics
def _path(path: list[str]) -> Expr:
    def resolve(message: Message) -> Any:
        value = message.document
        for part in path:
            if not isinstance(value, dict) or part not in value:
                return UNDEFINED
            value = value[part]
        return value

    return resolve


def _as_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return UNDEFINED


def _logical(left: Expr, right: Expr, operator: str) -> Expr:
    """Three-valued AND/OR: a decisive operand wins (``false AND x`` is false, ``true OR x`` is
    true), two booleans combine, anything else is Undefined."""
    decisive = operator == "OR"

    def evaluate(message: Message) -> Any:
        a, b = _as_bool(left(message)), _as_bool(right(message))
        if a is decisive or b is decisive:
            return decisive
        if a is UNDEFINED or b is UNDEFINED:
            return UNDEFINED
        return not decisive

    return evaluate


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _compare(op: str, a: Any, b: Any) -> Any:
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    equality = op in ("=", "<>", "!=")
    if isinstance(a, str) and isinstance(b, str):
        return ((a == b) == (op == "=")) if equality else _ORDER[op](a, b)
    x, y = _number(a), _number(b)
    if x is not None and y is not None:  # two numbers, or a number and a numeric string
        return ((x == y) == (op == "=")) if equality else _ORDER[op](x, y)
    if equality and type(a) is type(b) and isinstance(a, bool | dict | list):
        return (a == b) == (op == "=")
    return UNDEFINED


def parse(sql: str, version: str | None = None) -> Query:
    """Parse a rule's SQL; :class:`UnsupportedIotSql` says what is not supported and where."""
    if version is not None and version not in SUPPORTED_SQL_VERSIONS:
        raise UnsupportedIotSql(
            f"AwsIotSqlVersion {version!r} is not emulated (supported: {', '.join(SUPPORTED_SQL_VERSIONS)})"
        )
    try:
        return _Parser(sql).parse()
    except UnsupportedIotSql as exc:
        raise UnsupportedIotSql(f"IoT SQL {sql!r}: {exc}") from None
