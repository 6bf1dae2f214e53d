"""DynamoDB expression text to AST tuples, with DynamoDB's limits enforced while parsing.

Bounded by construction: the caller has already refused text over 4 KB (limits.check_expression_size);
AND/OR/NOT and parentheses are parsed with an explicit operator stack, not recursion; every operator or
function counts towards DynamoDB's 300 and parsing stops at the 301st ("operator count: 301", as DynamoDB
reports it); "((x))" is refused as DynamoDB refuses it ("The expression has redundant parentheses;"), so
every level of nesting costs an operator and the AST is at most ~300 deep. Document paths are limited to
32 elements, list indexes to MAX_LIST_INDEX. Sources: see limits.py.

AST: ("or"|"and", (child, ...)), ("not", child), ("cmp", op, a, b), ("between", x, low, high),
("in", x, [options]), ("func", name, [args]); operands ("path", PathSpec), ("value", ":v"), ("size", PathSpec).
Update values: ("value", ":v"), ("path", PathSpec), ("arith", "+"|"-", a, b), ("if_not_exists", path, b),
("list_append", a, b).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from local.dynamodb.limits import MAX_LIST_INDEX, MAX_OPERATORS, MAX_PATH_ELEMENTS
from local.dynamodb.values import DynamoError, validation

PathSpec = tuple[str | int, ...]  # str: a name or a "#placeholder"; int: a list index
Node = tuple[Any, ...]

_TOKEN = re.compile(r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<int>[0-9]+)|(?P<op><>|<=|>=|[=<>()\[\],.+-]))")
_RESERVED = frozenset((Path(__file__).with_name("reserved_keywords.txt")).read_text().split())
COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
CONDITION_FUNCTIONS = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2,
                       "contains": 2}
_PRECEDENCE = {"OR": 1, "AND": 2, "NOT": 3}


class Parser:
    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.kind = kind  # "ConditionExpression", "UpdateExpression", ... for error messages
        self.tokens: list[tuple[str, str]] = []
        self.pos = 0
        self.names: set[str] = set()
        self.values: set[str] = set()
        self.operators = 0
        self.open_groups = 0
        index = 0
        while index < len(text):
            match = _TOKEN.match(text, index)
            if match is None:
                if not text[index:].strip():
                    break
                raise self.error(text[index:].strip()[:1])
            index = match.end()
            token_kind = match.lastgroup or "op"
            self.tokens.append((token_kind, match.group(token_kind)))
        if not self.tokens:
            raise validation(f"Invalid {kind}: The expression can not be empty;")

    def error(self, token: str | None = None) -> DynamoError:
        if token is None:
            token = self.tokens[self.pos][1] if self.pos < len(self.tokens) else "<EOF>"
        return validation(f'Invalid {self.kind}: Syntax error; token: "{token}", near: "{self.text[:40]}"')

    def count_operator(self) -> None:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise validation(f"Invalid {self.kind}: The expression contains too many operators; operator count: "
                             f"{self.operators}")

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

    # -- paths and operands ----------------------------------------------------------------
    def path(self) -> PathSpec:
        elements: list[str | int] = [self._path_name()]
        while True:
            kind, text = self.peek()
            if kind == "op" and text == ".":
                self.pos += 1
                elements.append(self._path_name())
            elif kind == "op" and text == "[":
                self.pos += 1
                elements.append(self._index())
                self.expect("]")
            else:
                break
        if len(elements) > MAX_PATH_ELEMENTS:
            raise validation(f"Invalid {self.kind}: The document path has too many nesting levels; nesting levels: "
                             f"{len(elements)}")
        return tuple(elements)

    def _index(self) -> int:
        kind, digits = self.take()
        if kind != "int":
            raise self.error(digits)
        significant = digits.lstrip("0")
        if len(significant) > len(str(MAX_LIST_INDEX)) or int(significant or "0") > MAX_LIST_INDEX:
            shown = digits if len(digits) <= 20 else digits[:20] + "..."
            raise validation(f"Invalid {self.kind}: List index is out of range; index: {shown}")
        return int(significant or "0")

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

    def operand(self) -> Node:
        kind, text = self.peek()
        if kind == "value":
            self.pos += 1
            self.values.add(text)
            return ("value", text)
        if kind == "ident" and text == "size" and self.peek(1)[1] == "(":
            self.count_operator()
            self.pos += 2
            path = self.path()
            self.expect(")")
            return ("size", path)
        if kind == "ident" and self.peek(1)[1] == "(":
            if text not in CONDITION_FUNCTIONS:  # DynamoDB's answer to "a < f(b)" (scylla test_limits.py)
                raise validation(f"Invalid {self.kind}: Invalid function name; function: {text}")
            raise validation(f"Invalid {self.kind}: The function is not allowed to be used this way in an "
                             f"expression; function: {text}")
        return ("path", self.path())

    # -- conditions: precedence parsing with explicit stacks ---------------------------------
    def condition(self) -> Node:
        """OR < AND < NOT < primary; stops before a token that cannot continue the condition."""
        pending: list[str] = []  # "(", "NOT", "AND", "OR"
        operands: list[tuple[Node, bool]] = []  # (node, wrapped in its own parentheses)
        expect_operand = True
        while True:
            kind, text = self.peek()
            if expect_operand:
                if kind == "op" and text == "(":
                    self.pos += 1
                    self.open_groups += 1
                    pending.append("(")
                elif self.keyword("NOT"):
                    self.count_operator()
                    pending.append("NOT")
                else:
                    operands.append((self._primary(), False))
                    expect_operand = False
            elif kind == "op" and text == ")" and self.open_groups:
                self.pos += 1
                self._close_group(pending, operands)
            elif kind == "ident" and text.upper() in ("AND", "OR"):
                self.pos += 1
                self.count_operator()
                while pending and pending[-1] != "(" and _PRECEDENCE[pending[-1]] >= _PRECEDENCE[text.upper()]:
                    _reduce(pending, operands)
                pending.append(text.upper())
                expect_operand = True
            else:
                break
        if self.open_groups:
            raise self.error()
        while pending:
            _reduce(pending, operands)
        return operands[0][0]

    def _close_group(self, pending: list[str], operands: list[tuple[Node, bool]]) -> None:
        while pending[-1] != "(":
            _reduce(pending, operands)
        pending.pop()
        self.open_groups -= 1
        node, wrapped = operands[-1]
        if wrapped:
            raise validation(f"Invalid {self.kind}: The expression has redundant parentheses;")
        operands[-1] = (node, True)

    def _primary(self) -> Node:
        kind, text = self.peek()
        if kind == "ident" and text in CONDITION_FUNCTIONS and self.peek(1)[1] == "(":
            return self._function(text)
        left = self.operand()
        kind, text = self.peek()
        if kind == "op" and text in COMPARATORS:
            self.pos += 1
            self.count_operator()
            return ("cmp", text, left, self.operand())
        if self.keyword("BETWEEN"):
            self.count_operator()
            low = self.operand()
            if not self.keyword("AND"):
                raise self.error()
            return ("between", left, low, self.operand())
        if self.keyword("IN"):
            self.count_operator()
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

    def _function(self, name: str) -> Node:
        self.count_operator()
        self.pos += 2
        args = [self.operand()]
        while self.peek()[1] == ",":
            self.pos += 1
            args.append(self.operand())
        self.expect(")")
        if len(args) != CONDITION_FUNCTIONS[name]:
            raise validation(f"Invalid {self.kind}: Incorrect number of operands for operator or function; "
                             f"operator or function: {name}, number of operands: {len(args)}")
        if args[0][0] != "path":
            raise validation(f"Invalid {self.kind}: Operator or function requires a document path; "
                             f"operator or function: {name}")
        return ("func", name, args)

    # -- update expressions ------------------------------------------------------------------
    def set_value(self) -> Node:
        left = self._set_operand()
        kind, text = self.peek()
        if kind == "op" and text in ("+", "-"):
            self.pos += 1
            self.count_operator()
            return ("arith", text, left, self._set_operand())
        return left

    def _set_operand(self) -> Node:
        """Recursive only through function arguments, and every function counts as an operator first,
        so the depth is bounded by MAX_OPERATORS."""
        kind, text = self.peek()
        if kind == "ident" and text in ("if_not_exists", "list_append") and self.peek(1)[1] == "(":
            self.count_operator()
            self.pos += 2
            first = ("path", self.path()) if text == "if_not_exists" else self._set_operand()
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


def _reduce(pending: list[str], operands: list[tuple[Node, bool]]) -> None:
    """Applies the topmost pending operator; AND/OR chains become one n-ary node (no depth from chains)."""
    word = pending.pop()
    if word == "NOT":
        node, _ = operands.pop()
        operands.append((("not", node), False))
        return
    (right, _), (left, _) = operands.pop(), operands.pop()
    key = word.lower()
    children = (*(left[1] if left[0] == key else (left,)), *(right[1] if right[0] == key else (right,)))
    operands.append(((key, children), False))
