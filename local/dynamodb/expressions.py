"""DynamoDB expressions: parsed once per expression text (grammar.py), compiled to closures, evaluated.

Parsing turns the text into a small AST of tuples, which is then compiled into closures
`fn(item, names, values)`. Placeholders (#n, :v) stay unresolved in the AST, so the cache keyed
by expression text hits across requests that differ only in their values. Every parse is preceded by
DynamoDB's 4 KB size check, and the AST is at most ~300 levels deep (grammar.py), so compiling and
evaluating use one stack frame per level at most.

Precedence as DynamoDB documents it: comparators, IN, BETWEEN, functions > parentheses > NOT > AND > OR.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from local.dynamodb.grammar import Node, Parser, PathSpec
from local.dynamodb.limits import check_expression_size
from local.dynamodb.values import Item, Value, equal, size, sort_key, validation

Names = dict[str, str]
Values = dict[str, Value]
Condition = Callable[[Item, Names, Values], bool]
Operand = Callable[[Item, Names, Values], "Value | None"]

_ATTRIBUTE_TYPES = frozenset({"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"})
_ORDERED = frozenset({"N", "S", "B"})


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


def _operand(node: Node) -> Operand:
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


def _logical(node: Node) -> Condition:
    if node[0] == "not":
        a = compile_condition(node[1])
        return lambda item, names, values: not a(item, names, values)
    parts: list[Condition] = []
    for child in node[1]:
        parts.append(compile_condition(child))
    # Plain loops, not any()/all(): a generator would add a stack frame per nesting level.
    if node[0] == "or":
        def any_of(item: Item, names: Names, values: Values) -> bool:
            for part in parts:  # noqa: SIM110
                if part(item, names, values):
                    return True
            return False
        return any_of

    def all_of(item: Item, names: Names, values: Values) -> bool:
        for part in parts:  # noqa: SIM110
            if not part(item, names, values):
                return False
        return True
    return all_of


def _between(node: Node) -> Condition:
    x, low, high = _operand(node[1]), _operand(node[2]), _operand(node[3])

    def between(item: Item, names: Names, values: Values) -> bool:
        value, lo, hi = x(item, names, values), low(item, names, values), high(item, names, values)
        return value is not None and _compare(">=", value, lo) and _compare("<=", value, hi)
    return between


def _in(node: Node) -> Condition:
    x, options = _operand(node[1]), [_operand(option) for option in node[2]]

    def within(item: Item, names: Names, values: Values) -> bool:
        value = x(item, names, values)
        return value is not None and any(
            (option_value := option(item, names, values)) is not None and equal(value, option_value)
            for option in options)
    return within


def compile_condition(node: Node) -> Condition:
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


def _value_checks(ast: Node) -> list[tuple[str, str, str]]:
    """Static type checks DynamoDB makes on literal operands, as (rule, placeholder, detail); iterative."""
    checks: list[tuple[str, str, str]] = []
    pending = [ast]
    while pending:
        node = pending.pop()
        kind = node[0]
        if kind in ("or", "and"):
            pending.extend(reversed(node[1]))
        elif kind == "not":
            pending.append(node[1])
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
    return checks


@dataclass(frozen=True)
class ConditionExpr:
    ast: Node
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


def parse_condition(text: str, kind: str = "ConditionExpression") -> ConditionExpr:
    check_expression_size(text, kind)  # before the cache: a 4 MiB text is neither hashed nor parsed
    return _parse_condition(text, kind)


@lru_cache(maxsize=4096)
def _parse_condition(text: str, kind: str) -> ConditionExpr:
    parser = Parser(text, kind)
    ast = parser.condition()
    if not parser.at_end():
        raise parser.error()
    return ConditionExpr(ast, compile_condition(ast), frozenset(parser.names), frozenset(parser.values),
                         tuple(_value_checks(ast)), kind)


# --- projections -------------------------------------------------------------------------


def parse_projection(text: str) -> tuple[tuple[PathSpec, ...], frozenset[str]]:
    check_expression_size(text, "ProjectionExpression")
    return _parse_projection(text)


@lru_cache(maxsize=4096)
def _parse_projection(text: str) -> tuple[tuple[PathSpec, ...], frozenset[str]]:
    parser = Parser(text, "ProjectionExpression")
    paths = [parser.path()]
    while parser.peek()[1] == ",":
        parser.pos += 1
        paths.append(parser.path())
    if not parser.at_end():
        raise parser.error()
    return tuple(paths), frozenset(parser.names)
