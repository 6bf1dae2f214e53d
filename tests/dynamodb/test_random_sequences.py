"""Random sequences of conditional writes over a small key space: the fast engine answers as moto does."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dynamodb.conftest import Twin

KEYS = [{"pk": {"S": f"k{i}"}} for i in range(3)]
VALUES = {":n": st.integers(0, 5).map(lambda n: {"N": str(n)}), ":m": st.integers(-3, 3).map(lambda n: {"N": str(n)}),
          ":hi": st.just({"N": "100"}), ":p": st.sampled_from([{"S": "x"}, {"S": "xy"}, {"S": "y"}]),
          ":set": st.sampled_from([{"SS": ["x"]}, {"SS": ["x", "y"]}])}
# size() of a missing attribute is left out: moto answers 500 where DynamoDB evaluates false.
ATOMS = ["attribute_exists(a)", "attribute_not_exists(b)", "a = :n", "a < :n", "a >= :n", "a <> :n",
         "a BETWEEN :n AND :hi", "begins_with(s, :p)", "contains(ss, :p)", "a IN (:n, :m)",
         "contains(s, :p)", "b <= :m"]
ACTIONS = {  # attribute -> update actions touching only it
    "a": ["SET a = :n", "SET a = a + :m", "ADD a :m", "REMOVE a", "SET a = if_not_exists(a, :n) - :m"],
    "b": ["SET b = :m", "REMOVE b", "ADD b :n", "SET b = a"],
    "s": ["SET s = :p", "REMOVE s"],
    "ss": ["ADD ss :set", "DELETE ss :set", "REMOVE ss"],
}

conditions = st.recursive(
    st.one_of(st.sampled_from(ATOMS), st.sampled_from(ATOMS).map(lambda c: f"NOT {c}")),
    # Binary forms are parenthesised once, NOT applies to those or atoms: moto fails on "((x))" and "NOT NOT".
    lambda inner: st.one_of(st.tuples(inner, st.sampled_from([" AND ", " OR "]), inner)
                            .map(lambda t: f"({''.join(t)})"),
                            st.tuples(inner, inner).map(lambda t: f"NOT ({t[0]} AND {t[1]})")),
    max_leaves=4,
)


@st.composite
def updates(draw: Any) -> str:
    attributes = draw(st.lists(st.sampled_from(sorted(ACTIONS)), min_size=1, max_size=3, unique=True))
    clauses: dict[str, list[str]] = {}
    for attribute in attributes:
        clause, action = draw(st.sampled_from(ACTIONS[attribute])).split(" ", 1)
        clauses.setdefault(clause, []).append(action)
    return " ".join(f"{clause} {', '.join(actions)}" for clause, actions in clauses.items())


@st.composite
def operations(draw: Any) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["put_item", "update_item", "update_item", "delete_item"]))
    key = draw(st.sampled_from(KEYS))
    request: dict[str, Any] = {}
    expressions = ""
    if kind == "put_item":
        item = {**key, "a": draw(VALUES[":n"])}
        if draw(st.booleans()):
            item["s"] = draw(VALUES[":p"])
        request["Item"] = item
    else:
        request["Key"] = key
    if kind == "update_item":
        request["UpdateExpression"] = expressions = draw(updates())
        # UPDATED_* left out: moto drops attributes whose value did not change, DynamoDB names them all.
        request["ReturnValues"] = draw(st.sampled_from(["NONE", "ALL_NEW", "ALL_OLD"]))
    elif draw(st.booleans()):
        request["ReturnValues"] = "ALL_OLD"
    if draw(st.booleans()):
        request["ConditionExpression"] = condition = draw(conditions)
        expressions += " " + condition
        request["ReturnValuesOnConditionCheckFailure"] = draw(st.sampled_from(["NONE", "ALL_OLD"]))
    values = {name: draw(strategy) for name, strategy in VALUES.items() if name in expressions}
    if values:
        request["ExpressionAttributeValues"] = values
    return kind, request


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(operations(), min_size=1, max_size=12))
def test_random_write_sequences_match_moto(clients: tuple[Any, Any], sequence: list[Any]) -> None:
    # Given a fresh table on both engines
    twin = Twin(*clients, keys=("pk",))
    try:
        # When the same random writes run on both
        for operation, request in sequence:
            twin.same(operation, **request)
        # Then every answer matched, and so does the final content
        fast, moto = twin.both("scan")
        def by_key(items: list[Any]) -> list[Any]:
            return sorted(items, key=lambda item: item["pk"]["S"])
        assert by_key(fast["ok"]["Items"]) == by_key(moto["ok"]["Items"])
    finally:
        twin.drop()
