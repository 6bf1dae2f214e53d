"""DynamoDB expression grammar: parsed once per expression text, evaluated with any placeholders.

Parsing turns the text into a small AST of tuples, which is then compiled into closures
`fn(item, names, values)`. Placeholders (#n, :v) stay unresolved in the AST, so the cache keyed
by expression text hits across requests that differ only in their values.

Precedence as DynamoDB documents it: comparators, IN, BETWEEN, functions > parentheses > NOT > AND > OR.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from local.dynamodb.values import DynamoError, Item, Value, arithmetic, equal, size, sort_key, validation

PathSpec = tuple[str | int, ...]  # str: a name or a "#placeholder"; int: a list index
Names = dict[str, str]
Values = dict[str, Value]
Condition = Callable[[Item, Names, Values], bool]
Operand = Callable[[Item, Names, Values], "Value | None"]

_TOKEN = re.compile(r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<int>[0-9]+)|(?P<op><>|<=|>=|[=<>()\[\],.+-]))")
_RESERVED = frozenset(
    (Path(__file__).with_name("reserved_keywords.txt")).read_text().split()
)
_COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_CONDITION_FUNCTIONS = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
                        "begins_with": 2, "contains": 2}
_ATTRIBUTE_TYPES = frozenset({"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"})
_ORDERED = frozenset({"N", "S", "B"})


# --- tokens and parser -----------------------------------------------------------------------


@dataclass
class _Parser:
    text: str
    kind: str  # "ConditionExpression", "UpdateExpression", ... for error messages
    tokens: list[tuple[str, str]] = field(default_factory=list)
    pos: int = 0
    names: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        index, text = 0, self.text
        while index < len(text):
            match = _TOKEN.match(text, index)
            if match is None:
                if not text[index:].strip():
                    break
                raise self.error(text[index:].strip()[:1])
            index = match.end()
            kind = match.lastgroup or "op"
            self.tokens.append((kind, match.group(kind)))
        if not self.tokens:
            raise validation(f"Invalid {self.kind}: The expression can not be empty;")

    def error(self, token: str | None = None) -> DynamoError:
        if token is None:
            token = self.tokens[self.pos][1] if self.pos < len(self.tokens) else "<EOF>"
        return validation(f'Invalid {self.kind}: Syntax error; token: "{token}", near: "{self.text[:40]}"')

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end":
            raise self.error()
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        if self.take()[1] != text:
            self.pos -= 1
            raise self.error()

    def keyword(self, word: str) -> bool:
        kind, text = self.peek()
        if kind == "ident" and text.upper() == word:
            self.pos += 1
            return True
        return False

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    # paths and operands
    def path(self) -> PathSpec:
        elements: list[str | int] = [self._path_name()]
        while True:
            text = self.peek()[1]
            if text == ".":
                self.pos += 1
                elements.append(self._path_name())
            elif text == "[":
                self.pos += 1
                kind, number = self.take()
                if kind != "int":
                    raise self.error(number)
                self.expect("]")
                elements.append(int(number))
            else:
                return tuple(elements)

    def _path_name(self) -> str:
        kind, text = self.take()
        if kind == "name":
            self.names.add(text)
            return text
        if kind == "ident":
            if text.upper() in _RESERVED:
                raise validation(f"Invalid {self.kind}: Attribute name is a reserved keyword; reserved keyword: "
                                 f"{text}")
            return text
        raise self.error(text)

    def operand(self) -> tuple[Any, ...]:
        kind, text = self.peek()
        if kind == "value":
            self.pos += 1
            self.values.add(text)
            return ("value", text)
        if kind == "ident" and text == "size" and self.peek(1)[1] == "(":
            self.pos += 2
            path = self.path()
            self.expect(")")
            return ("size", path)
        if kind == "ident" and self.peek(1)[1] == "(":
            raise validation(f"Invalid {self.kind}: The function is not allowed to be used this way in an "
                             f"expression; function: {text}")
        return ("path", self.path())

    # conditions
    def condition(self) -> tuple[Any, ...]:
        node = self._and()
        while self.keyword("OR"):
            node = ("or", node, self._and())
        return node

    def _and(self) -> tuple[Any, ...]:
        node = self._not()
        while self.keyword("AND"):
            node = ("and", node, self._not())
        return node

    def _not(self) -> tuple[Any, ...]:
        if self.keyword("NOT"):
            return ("not", self._not())
        return self._primary()

    def _primary(self) -> tuple[Any, ...]:
        kind, text = self.peek()
        if text == "(" and kind == "op":
            self.pos += 1
            node = self.condition()
            self.expect(")")
            return node
        if kind == "ident" and text in _CONDITION_FUNCTIONS and self.peek(1)[1] == "(":
            return self._function(text)
        left = self.operand()
        kind, text = self.peek()
        if kind == "op" and text in _COMPARATORS:
            self.pos += 1
            return ("cmp", text, left, self.operand())
        if self.keyword("BETWEEN"):
            low = self.operand()
            if not self.keyword("AND"):
                raise self.error()
            return ("between", left, low, self.operand())
        if self.keyword("IN"):
            self.expect("(")
            options = [self.operand()]
            while self.peek()[1] == ",":
                self.pos += 1
                options.append(self.operand())
            self.expect(")")
            if len(options) > 100:
                raise validation(f"Invalid {self.kind}: The IN operator is provided with too many operands; "
                                 f"number of operands: {len(options)}")
            return ("in", left, options)
        raise self.error()

    def _function(self, name: str) -> tuple[Any, ...]:
        self.pos += 2
        args = [self.operand()]
        while self.peek()[1] == ",":
            self.pos += 1
            args.append(self.operand())
        self.expect(")")
        if len(args) != _CONDITION_FUNCTIONS[name]:
            raise validation(f"Invalid {self.kind}: Incorrect number of operands for operator or function; "
                             f"operator or function: {name}, number of operands: {len(args)}")
        if args[0][0] != "path":
            raise validation(f"Invalid {self.kind}: Operator or function requires a document path; "
                             f"operator or function: {name}")
        return ("func", name, args)

    # update expressions
    def set_value(self) -> tuple[Any, ...]:
        left = self._set_operand()
        text = self.peek()[1]
        if text in ("+", "-") and self.peek()[0] == "op":
            self.pos += 1
            return ("arith", text, left, self._set_operand())
        return left

    def _set_operand(self) -> tuple[Any, ...]:
        kind, text = self.peek()
        if kind == "ident" and text in ("if_not_exists", "list_append") and self.peek(1)[1] == "(":
            self.pos += 2
            if text == "if_not_exists":
                first: tuple[Any, ...] = ("path", self.path())
            else:
                first = self._set_operand()
            self.expect(",")
            second = self._set_operand()
            self.expect(")")
            return (text, first, second)
        if kind == "value":
            self.pos += 1
            self.values.add(text)
            return ("value", text)
        if kind == "ident" and self.peek(1)[1] == "(":
            raise validation(f"Invalid {self.kind}: Invalid function name; function: {text}")
        return ("path", self.path())


# --- evaluation ----------------------------------------------------------------------------


def resolve(path: PathSpec, names: Names) -> tuple[str | int, ...]:
    return tuple(names[element] if isinstance(element, str) and element[0] == "#" else element
                 for element in path)


def get_path(item: Item, path: tuple[str | int, ...]) -> Value | None:
    first = path[0]
    current: Value | None = item.get(first) if isinstance(first, str) else None
    for element in path[1:]:
        if current is None:
            return None
        if isinstance(element, int):
            elements = current.get("L")
            current = elements[element] if elements is not None and element < len(elements) else None
        else:
            members = current.get("M")
            current = members.get(element) if members is not None else None
    return current


def _operand(node: tuple[Any, ...]) -> Operand:
    kind = node[0]
    if kind == "value":
        placeholder = node[1]
        return lambda item, names, values: values[placeholder]
    path = node[1]
    if kind == "size":
        def size_of(item: Item, names: Names, values: Values) -> Value | None:
            value = get_path(item, resolve(path, names))
            length = None if value is None else size(value)
            return None if length is None else {"N": str(length)}
        return size_of
    return lambda item, names, values: get_path(item, resolve(path, names))


_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                                    ">=": operator.ge}


def _compare(op: str, a: Value | None, b: Value | None) -> bool:
    if a is None or b is None:
        return op == "<>" and (a is not None or b is not None)
    if op in ("=", "<>"):
        return equal(a, b) == (op == "=")
    kind = next(iter(a))
    if kind != next(iter(b)) or kind not in _ORDERED:
        return False
    return bool(_ORDER_OPS[op](sort_key(a), sort_key(b)))


def _contains(container: Value, operand: Value) -> bool:
    kind, raw = next(iter(container.items()))
    other_kind, other = next(iter(operand.items()))
    if kind == "S":
        return other_kind == "S" and other in raw
    if kind in ("SS", "NS", "BS"):
        return other_kind == kind[0] and other in raw
    if kind == "L":
        return any(equal(element, operand) for element in raw)
    return False


def _begins_with(value: Value, prefix: Value) -> bool:
    kind = next(iter(value))
    if kind != next(iter(prefix)) or kind not in ("S", "B"):
        return False
    return bool(sort_key(value)[: len(sort_key(prefix))] == sort_key(prefix))


def _function(name: str, args: list[Operand]) -> Condition:
    if name == "attribute_exists":
        target = args[0]
        return lambda item, names, values: target(item, names, values) is not None
    if name == "attribute_not_exists":
        target = args[0]
        return lambda item, names, values: target(item, names, values) is None
    first, second = args

    def call(item: Item, names: Names, values: Values) -> bool:
        value, argument = first(item, names, values), second(item, names, values)
        if value is None or argument is None:
            return False
        if name == "attribute_type":
            return next(iter(value)) == argument.get("S")
        if name == "begins_with":
            return _begins_with(value, argument)
        return _contains(value, argument)

    return call


def _logical(node: tuple[Any, ...]) -> Condition:
    if node[0] == "not":
        a = compile_condition(node[1])
        return lambda item, names, values: not a(item, names, values)
    a, b = compile_condition(node[1]), compile_condition(node[2])
    if node[0] == "or":
        return lambda item, names, values: a(item, names, values) or b(item, names, values)
    return lambda item, names, values: a(item, names, values) and b(item, names, values)


def _between(node: tuple[Any, ...]) -> Condition:
    x, low, high = _operand(node[1]), _operand(node[2]), _operand(node[3])

    def between(item: Item, names: Names, values: Values) -> bool:
        value, lo, hi = x(item, names, values), low(item, names, values), high(item, names, values)
        return value is not None and _compare(">=", value, lo) and _compare("<=", value, hi)
    return between


def _in(node: tuple[Any, ...]) -> Condition:
    x, options = _operand(node[1]), [_operand(option) for option in node[2]]

    def within(item: Item, names: Names, values: Values) -> bool:
        value = x(item, names, values)
        return value is not None and any(
            (option_value := option(item, names, values)) is not None and equal(value, option_value)
            for option in options)
    return within


def compile_condition(node: tuple[Any, ...]) -> Condition:
    kind = node[0]
    if kind in ("or", "and", "not"):
        return _logical(node)
    if kind == "cmp":
        op, left, right = node[1], _operand(node[2]), _operand(node[3])
        return lambda item, names, values: _compare(op, left(item, names, values), right(item, names, values))
    if kind == "between":
        return _between(node)
    if kind == "in":
        return _in(node)
    return _function(node[1], [_operand(arg) for arg in node[2]])


def _value_checks(node: tuple[Any, ...], checks: list[tuple[str, str, str]]) -> None:
    """Static type checks DynamoDB makes on literal operands, collected as (rule, placeholder, detail)."""
    kind = node[0]
    if kind in ("or", "and"):
        _value_checks(node[1], checks)
        _value_checks(node[2], checks)
    elif kind == "not":
        _value_checks(node[1], checks)
    elif kind == "cmp" and node[1] not in ("=", "<>"):
        checks.extend(("ordered", operand[1], node[1]) for operand in node[2:] if operand[0] == "value")
    elif kind == "between":
        checks.extend(("ordered", operand[1], "BETWEEN") for operand in node[1:] if operand[0] == "value")
        if node[2][0] == "value" and node[3][0] == "value":
            checks.append(("bounds", node[2][1], node[3][1]))
    elif kind == "func" and node[1] == "attribute_type" and node[2][1][0] == "value":
        checks.append(("type", node[2][1][1], "attribute_type"))
    elif kind == "func" and node[1] == "begins_with" and node[2][1][0] == "value":
        checks.append(("prefix", node[2][1][1], "begins_with"))


@dataclass(frozen=True)
class ConditionExpr:
    ast: tuple[Any, ...]
    evaluate: Condition
    names: frozenset[str]
    values: frozenset[str]
    checks: tuple[tuple[str, str, str], ...]
    kind: str

    def check(self, values: Values) -> None:
        for rule, placeholder, detail in self.checks:
            value = values[placeholder]
            value_kind = next(iter(value))
            if rule == "ordered" and value_kind not in _ORDERED:
                raise validation(f"Invalid {self.kind}: Incorrect operand type for operator or function; "
                                 f"operator or function: {detail}, operand type: {value_kind}")
            if rule == "prefix" and value_kind not in ("S", "B"):
                raise validation(f"Invalid {self.kind}: Incorrect operand type for operator or function; "
                                 f"operator or function: begins_with, operand type: {value_kind}")
            if rule == "type" and (value_kind != "S" or value["S"] not in _ATTRIBUTE_TYPES):
                raise validation(f"Invalid {self.kind}: Invalid attribute type name found; type: "
                                 f"{value.get('S', value_kind)}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}")
            if rule == "bounds":
                high = values[detail]
                if next(iter(high)) == value_kind and _compare(">", value, high):
                    raise validation(f"Invalid {self.kind}: The BETWEEN operator requires upper bound to be "
                                     f"greater than or equal to lower bound")


@lru_cache(maxsize=4096)
def parse_condition(text: str, kind: str = "ConditionExpression") -> ConditionExpr:
    parser = _Parser(text, kind)
    ast = parser.condition()
    if not parser.at_end():
        raise parser.error()
    checks: list[tuple[str, str, str]] = []
    _value_checks(ast, checks)
    return ConditionExpr(ast, compile_condition(ast), frozenset(parser.names), frozenset(parser.values),
                         tuple(checks), kind)


# --- update expressions ----------------------------------------------------------------------

SetValue = Callable[[Item, Names, Values], Value]


def _missing() -> DynamoError:
    return validation("The provided expression refers to an attribute that does not exist in the item")


def _wrong_type() -> DynamoError:
    return validation("An operand in the update expression has an incorrect data type")


def _read_path(path: PathSpec) -> SetValue:
    def read(item: Item, names: Names, values: Values) -> Value:
        value = get_path(item, resolve(path, names))
        if value is None:
            raise _missing()
        return value
    return read


def _if_not_exists(node: tuple[Any, ...]) -> SetValue:
    path, fallback = node[1][1], compile_set_value(node[2])

    def if_not_exists(item: Item, names: Names, values: Values) -> Value:
        value = get_path(item, resolve(path, names))
        return fallback(item, names, values) if value is None else value
    return if_not_exists


def _list_append(node: tuple[Any, ...]) -> SetValue:
    first, second = compile_set_value(node[1]), compile_set_value(node[2])

    def list_append(item: Item, names: Names, values: Values) -> Value:
        a, b = first(item, names, values), second(item, names, values)
        if "L" not in a or "L" not in b:
            raise _wrong_type()
        return {"L": [*a["L"], *b["L"]]}
    return list_append


def _arith(node: tuple[Any, ...]) -> SetValue:
    op, left, right = node[1], compile_set_value(node[2]), compile_set_value(node[3])

    def arith(item: Item, names: Names, values: Values) -> Value:
        a, b = left(item, names, values), right(item, names, values)
        if "N" not in a or "N" not in b:
            raise _wrong_type()
        return {"N": arithmetic(a["N"], b["N"], subtract=op == "-")}
    return arith


def compile_set_value(node: tuple[Any, ...]) -> SetValue:
    kind = node[0]
    if kind == "value":
        placeholder = node[1]
        return lambda item, names, values: values[placeholder]
    if kind == "path":
        return _read_path(node[1])
    builders = {"if_not_exists": _if_not_exists, "list_append": _list_append, "arith": _arith}
    return builders[kind](node)


@dataclass(frozen=True)
class UpdateExpr:
    sets: tuple[tuple[PathSpec, SetValue], ...]
    removes: tuple[PathSpec, ...]
    adds: tuple[tuple[PathSpec, str], ...]
    deletes: tuple[tuple[PathSpec, str], ...]
    names: frozenset[str]
    values: frozenset[str]

    def paths(self) -> list[PathSpec]:
        return [*(p for p, _ in self.sets), *self.removes, *(p for p, _ in self.adds), *(p for p, _ in self.deletes)]


@lru_cache(maxsize=4096)
def parse_update(text: str) -> UpdateExpr:
    parser = _Parser(text, "UpdateExpression")
    clauses: dict[str, list[Any]] = {}
    while not parser.at_end():
        kind, word = parser.take()
        clause = word.upper() if kind == "ident" else ""
        if clause not in ("SET", "REMOVE", "ADD", "DELETE"):
            parser.pos -= 1
            raise parser.error()
        if clause in clauses:
            raise validation(f'Invalid UpdateExpression: The "{clause}" section can only be used once in an '
                             f"update expression;")
        actions: list[Any] = []
        while True:
            path = parser.path()
            if clause == "SET":
                parser.expect("=")
                actions.append((path, compile_set_value(parser.set_value())))
            elif clause == "REMOVE":
                actions.append(path)
            else:
                value_kind, placeholder = parser.take()
                if value_kind != "value":
                    parser.pos -= 1
                    raise parser.error()
                parser.values.add(placeholder)
                actions.append((path, placeholder))
            if parser.peek()[1] != ",":
                break
            parser.pos += 1
        clauses[clause] = actions
    return UpdateExpr(tuple(clauses.get("SET", ())), tuple(clauses.get("REMOVE", ())),
                      tuple(clauses.get("ADD", ())), tuple(clauses.get("DELETE", ())),
                      frozenset(parser.names), frozenset(parser.values))


@lru_cache(maxsize=4096)
def parse_projection(text: str) -> tuple[tuple[PathSpec, ...], frozenset[str]]:
    parser = _Parser(text, "ProjectionExpression")
    paths = [parser.path()]
    while parser.peek()[1] == ",":
        parser.pos += 1
        paths.append(parser.path())
    if not parser.at_end():
        raise parser.error()
    return tuple(paths), frozenset(parser.names)
