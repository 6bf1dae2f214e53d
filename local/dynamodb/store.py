"""The in-memory DynamoDB: one `Store`, one method per API action, request dict in, response dict out.

Single-threaded by design (the server runs every request to completion on one event loop), so
each operation is atomic, as DynamoDB is per item. Stored items are never mutated in place:
writes build a new item (copy-on-write along the updated paths) and replace the old one.
With a HeatMap attached (`Store(heat=…)`), single-item requests and Queries are metered per key and can be
throttled (local.dynamodb.heat). Over 300 lines: one method per action, sharing the request pieces below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from local.dynamodb.expressions import (
    ConditionExpr,
    Names,
    Values,
    compile_condition,
    parse_condition,
    parse_projection,
    resolve,
)
from local.dynamodb.grammar import PathSpec
from local.dynamodb.heat import HeatMap
from local.dynamodb.limits import check_item, check_substitutions
from local.dynamodb.table import Table, new_table, not_found
from local.dynamodb.updates import UpdateExpr, apply_update, overlap_check, parse_update, project
from local.dynamodb.values import DynamoError, Item, normalise, normalise_item, sort_key, too_deep, validation
from local.dynamodb.wire import check_request

Request = dict[str, Any]
Response = dict[str, Any]
_LEGACY = ("Expected", "AttributeUpdates", "KeyConditions", "QueryFilter", "ScanFilter", "AttributesToGet",
           "ConditionalOperator")


class Store:
    def __init__(self, heat: HeatMap | None = None) -> None:
        self.heat = heat  # per-key metering and injected throttling (local.dynamodb.heat); None: off, free
        self.tables: dict[str, Table] = {}
        self.actions: dict[str, Callable[[Request], Response]] = {
            "CreateTable": self.create_table, "DescribeTable": self.describe_table, "ListTables": self.list_tables,
            "DeleteTable": self.delete_table, "UpdateTimeToLive": self.update_ttl,
            "DescribeTimeToLive": self.describe_ttl, "GetItem": self.get_item, "PutItem": self.put_item,
            "UpdateItem": self.update_item, "DeleteItem": self.delete_item, "Query": self.query, "Scan": self.scan,
        }

    def handle(self, action: str, request: Request) -> Response:
        handler = self.actions.get(action)
        if handler is None:
            raise DynamoError("UnknownOperationException",
                              f"{action} is not implemented by the fast local DynamoDB; run it with --engine moto")
        if not isinstance(request, dict):
            raise DynamoError("SerializationException", "Request body must be a JSON object")
        check_request(request)
        for name in _LEGACY:
            if name in request:
                raise validation(f"{name} (legacy parameter) is not supported by the fast local DynamoDB; "
                                 "use expressions")
        try:
            return handler(request)
        except RecursionError:
            # Unreachable by design (every walk of client input is bounded or iterative); kept so that a
            # missed path is still DynamoDB's answer to over-nested input, never a 500.
            raise too_deep() from None

    def _table(self, request: Request) -> Table:
        table = self.tables.get(request.get("TableName"))  # type: ignore[arg-type]
        if table is None:
            raise not_found()
        return table

    # -- control plane -----------------------------------------------------------------------
    def create_table(self, request: Request) -> Response:
        table = new_table(request)
        if table.name in self.tables:
            raise DynamoError("ResourceInUseException", f"Table already exists: {table.name}")
        self.tables[table.name] = table
        return {"TableDescription": table.description()}

    def describe_table(self, request: Request) -> Response:
        return {"Table": self._table(request).description()}

    def list_tables(self, request: Request) -> Response:
        names = sorted(self.tables)
        start = request.get("ExclusiveStartTableName")
        if start:
            names = [name for name in names if name > start]
        limit = request.get("Limit")
        limit = 100 if limit is None else limit
        if not 1 <= limit <= 100:
            raise validation(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                             "Member must have value less than or equal to 100 and greater than or equal to 1")
        response: Response = {"TableNames": names[:limit]}
        if len(names) > limit:
            response["LastEvaluatedTableName"] = names[limit - 1]
        return response

    def delete_table(self, request: Request) -> Response:
        table = self._table(request)
        del self.tables[table.name]
        return {"TableDescription": table.description("DELETING")}

    def update_ttl(self, request: Request) -> Response:
        table = self._table(request)
        spec = request.get("TimeToLiveSpecification") or {}
        enabled, attribute = spec.get("Enabled"), spec.get("AttributeName")
        if not isinstance(enabled, bool) or not isinstance(attribute, str) or not attribute:
            raise validation("TimeToLiveSpecification needs Enabled and AttributeName")
        if enabled and table.ttl_attribute:
            raise validation("TimeToLive is already enabled")
        if not enabled and not table.ttl_attribute:
            raise validation("TimeToLive is already disabled")
        table.ttl_attribute = attribute if enabled else None
        return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}

    def describe_ttl(self, request: Request) -> Response:
        table = self._table(request)
        if table.ttl_attribute is None:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}}

    # -- single items ------------------------------------------------------------------------
    def get_item(self, request: Request) -> Response:
        table = self._table(request)
        key = table.check_key(normalise_item(request.get("Key"), "Key"))
        paths = _projection(request)
        names, _ = _placeholders(request, paths[1] if paths else frozenset(), frozenset())
        if self.heat is not None:
            self.heat.admit_key(table, request["Key"], write=False)
        item = table.get(key)
        if self.heat is not None:
            self.heat.read_item(table, request["Key"], item, consistent=request.get("ConsistentRead") is True)
        if item is None:
            return {}
        return {"Item": project(item, [resolve(p, names) for p in paths[0]]) if paths else item}

    def put_item(self, request: Request) -> Response:
        table = self._table(request)
        item = normalise_item(request.get("Item"))
        key = table.check_item_key(item)
        check_item(item)  # before the condition, as DynamoDB does: an oversized put never reaches it
        condition = _condition(request)
        _return_values(request, ("NONE", "ALL_OLD"))
        names, values = _placeholders(request, *_used(condition))
        old = table.get(key)
        key_item = table.key_item(item)
        self._guarded(table, key_item, old, lambda: _check_condition(request, condition, old, names, values))
        table.put(key, item)
        self._wrote(table, key_item, old, item)
        return _old_attributes(request, old)

    def delete_item(self, request: Request) -> Response:
        table = self._table(request)
        key = table.check_key(normalise_item(request.get("Key"), "Key"))
        condition = _condition(request)
        _return_values(request, ("NONE", "ALL_OLD"))
        names, values = _placeholders(request, *_used(condition))
        old = table.get(key)
        self._guarded(table, request["Key"], old, lambda: _check_condition(request, condition, old, names, values))
        table.delete(key)
        self._wrote(table, request["Key"], old)
        return _old_attributes(request, old)

    def update_item(self, request: Request) -> Response:
        table = self._table(request)
        key_item = normalise_item(request.get("Key"), "Key")
        key = table.check_key(key_item)
        update = parse_update(request["UpdateExpression"]) if request.get("UpdateExpression") else None
        condition = _condition(request)
        mode = _return_values(request, ("NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"))
        used_names, used_values = _used(condition)
        if update is not None:
            used_names, used_values = used_names | update.names, used_values | update.values
        names, values = _placeholders(request, used_names, used_values)
        paths = _check_update(table, update, names, values) if update else []
        old = table.get(key)
        self._guarded(table, key_item, old, lambda: _check_condition(request, condition, old, names, values))
        new = apply_update(update, old or key_item, names, values) if update else dict(old or key_item)
        check_item(new, updated=True)
        table.put(key, new)
        self._wrote(table, key_item, old, new)
        return _update_response(mode, old, new, paths)

    def _guarded(self, table: Table, key: Item, old: Item | None, check: Callable[[], None]) -> None:
        """A write's throttling check, then its condition (`check`); a failed condition still consumes capacity."""
        if self.heat is not None:
            self.heat.admit_key(table, key, write=True)
        try:
            check()
        except DynamoError as error:
            if error.code == "ConditionalCheckFailedException":
                self._wrote(table, key, old)
            raise

    def _wrote(self, table: Table, key: Item, *images: Item | None) -> None:
        if self.heat is not None:
            self.heat.wrote_item(table, key, *images)

    # -- many items --------------------------------------------------------------------------
    def query(self, request: Request) -> Response:
        table = self._table(request)
        _no_index(request)
        text = request.get("KeyConditionExpression")
        if not isinstance(text, str):
            raise validation("Either the KeyConditions or KeyConditionExpression parameter must be specified "
                             "in the request.")
        key_condition = parse_condition(text, "KeyConditionExpression")
        filter_, projection = _filter(request), _projection(request)
        names, values = _placeholders(request, *_used(key_condition, filter_, projection))
        hash_value, range_test = _key_condition(table, key_condition, names, values)
        candidates = [item for item in table.partition_items(hash_value) if range_test(item)]
        forward = request.get("ScanIndexForward", True) is not False
        if not forward:
            candidates.reverse()
        start = request.get("ExclusiveStartKey")
        if start is not None and table.range_key is not None:
            start_range = table.check_key(normalise_item(start, "ExclusiveStartKey"))[1]
            candidates = [item for item in candidates
                          if (sort_key(item[table.range_key]) > start_range) == forward
                          and sort_key(item[table.range_key]) != start_range]
        elif start is not None:
            table.check_key(normalise_item(start, "ExclusiveStartKey"))
            candidates = []
        if self.heat is not None:
            self.heat.admit(table.name, table.billing_mode == "PAY_PER_REQUEST", str(hash_value), write=False)
        response = _page(request, table, iter(candidates), filter_=filter_, projection=projection, names=names,
                         values=values)
        if self.heat is not None:
            self.heat.queried(table, hash_value, candidates[:response["ScannedCount"]],
                              consistent=request.get("ConsistentRead") is True)
        return response

    def scan(self, request: Request) -> Response:
        table = self._table(request)
        _no_index(request)
        if request.get("Segment", 0) != 0:  # parallel scans: segment 0 gets everything
            return {"Items": [], "Count": 0, "ScannedCount": 0}
        filter_, projection = _filter(request), _projection(request)
        names, values = _placeholders(request, *_used(filter_, projection))
        start = request.get("ExclusiveStartKey")
        start_key = table.check_key(normalise_item(start, "ExclusiveStartKey")) if start is not None else None
        return _page(request, table, table.scan_from(start_key), filter_=filter_, projection=projection,
                     names=names, values=values)


# --- request pieces ------------------------------------------------------------------------------


def _condition(request: Request) -> ConditionExpr | None:
    text = request.get("ConditionExpression")
    return parse_condition(text) if isinstance(text, str) else None


def _filter(request: Request) -> ConditionExpr | None:
    text = request.get("FilterExpression")
    return parse_condition(text, "FilterExpression") if isinstance(text, str) else None


def _projection(request: Request) -> tuple[tuple[PathSpec, ...], frozenset[str]] | None:
    text = request.get("ProjectionExpression")
    return parse_projection(text) if isinstance(text, str) else None


def _used(*parts: Any) -> tuple[frozenset[str], frozenset[str]]:
    names: frozenset[str] = frozenset()
    values: frozenset[str] = frozenset()
    for part in parts:
        if isinstance(part, ConditionExpr):
            names, values = names | part.names, values | part.values
        elif isinstance(part, tuple):  # a parsed projection
            names = names | part[1]
    return names, values


def _placeholders(request: Request, used_names: frozenset[str], used_values: frozenset[str]) -> tuple[Names,
                                                                                                        Values]:
    """The request's ExpressionAttributeNames/Values, checked the way DynamoDB checks them."""
    names = request.get("ExpressionAttributeNames")
    raw_values = request.get("ExpressionAttributeValues")
    if names is not None and not names:
        raise validation("ExpressionAttributeNames must not be empty")
    if raw_values is not None and not raw_values:
        raise validation("ExpressionAttributeValues must not be empty")
    names = names or {}
    values = {str(k): normalise(v) for k, v in (raw_values or {}).items()}
    check_substitutions(names, values)
    missing_name = sorted(used_names - names.keys())
    if missing_name:
        raise validation("Value provided in ExpressionAttributeNames is not defined; an expression attribute name "
                         f"used in the document path is not defined; attribute name: {missing_name[0]}")
    missing_value = sorted(used_values - values.keys())
    if missing_value:
        raise validation("An expression attribute value used in expression is not defined; attribute value: "
                         f"{missing_value[0]}")
    unused_names = sorted(names.keys() - used_names)
    if unused_names:
        raise validation("Value provided in ExpressionAttributeNames unused in expressions: keys: "
                         f"{{{', '.join(unused_names)}}}")
    unused_values = sorted(values.keys() - used_values)
    if unused_values:
        raise validation("Value provided in ExpressionAttributeValues unused in expressions: keys: "
                         f"{{{', '.join(unused_values)}}}")
    return names, values


def _return_values(request: Request, allowed: tuple[str, ...]) -> str:
    mode = request.get("ReturnValues") or "NONE"
    if mode not in allowed:
        raise validation(f"Return values set to invalid value: {mode}")
    on_failure = request.get("ReturnValuesOnConditionCheckFailure") or "NONE"
    if on_failure not in ("NONE", "ALL_OLD"):
        raise validation(f"ReturnValuesOnConditionCheckFailure set to invalid value: {on_failure}")
    return str(mode)


def _check_condition(request: Request, condition: ConditionExpr | None, old: Item | None, names: Names,
                     values: Values) -> None:
    if condition is None:
        return
    condition.check(values)
    if not condition.evaluate(old or {}, names, values):
        wants_item = request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
        raise DynamoError("ConditionalCheckFailedException", "The conditional request failed",
                          item=old if wants_item and old else None)


def _old_attributes(request: Request, old: Item | None) -> Response:
    return {"Attributes": old} if old and request.get("ReturnValues") == "ALL_OLD" else {}


def _check_update(table: Table, update: UpdateExpr, names: Names, values: Values) -> list[tuple[str | int, ...]]:
    paths = [resolve(path, names) for path in update.paths()]
    overlap_check(paths, "UpdateExpression")
    for path in paths:
        if path[0] in table.key_types:
            raise validation(f"One or more parameter values were invalid: Cannot update attribute {path[0]}. "
                             "This attribute is part of the key")
    for _, placeholder in update.adds:
        if next(iter(values[placeholder])) not in ("N", "SS", "NS", "BS"):
            raise validation("Invalid UpdateExpression: Incorrect operand type for operator or function; "
                             f"operator: ADD, operand type: {_type_name(values[placeholder])}")
    for _, placeholder in update.deletes:
        if next(iter(values[placeholder])) not in ("SS", "NS", "BS"):
            raise validation("Invalid UpdateExpression: Incorrect operand type for operator or function; "
                             f"operator: DELETE, operand type: {_type_name(values[placeholder])}")
    return paths


def _type_name(value: Any) -> str:
    return {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL", "L": "LIST",
            "M": "MAP"}.get(next(iter(value)), next(iter(value)))


def _update_response(mode: str, old: Item | None, new: Item, paths: list[tuple[str | int, ...]]) -> Response:
    if mode == "ALL_NEW":
        attributes: Item | None = new
    elif mode == "ALL_OLD":
        attributes = old
    elif mode == "UPDATED_NEW":
        attributes = project(new, paths)
    elif mode == "UPDATED_OLD":
        attributes = project(old, paths) if old else None
    else:
        attributes = None
    return {"Attributes": attributes} if attributes else {}


def _no_index(request: Request) -> None:
    if request.get("IndexName") is not None:
        raise validation("Secondary indexes are accepted by CreateTable but cannot be queried in the fast local "
                         "DynamoDB; run it with --engine moto")


def _key_condition(table: Table, condition: ConditionExpr, names: Names,
                   values: Values) -> tuple[Any, Callable[[Item], bool]]:
    """The hash key value and a test for the range condition of a KeyConditionExpression."""
    condition.check(values)
    parts = _conjuncts(condition.ast)
    hash_value: Any = None
    range_test: Callable[[Item], bool] = lambda item: True  # noqa: E731 - no range condition: every item
    ranged = False
    for part in parts:
        attribute = _key_attribute(part, names)
        is_hash = attribute == table.hash_key and part[0] == "cmp" and part[1] == "=" and hash_value is None
        if is_hash:
            value = values[part[3][1]]
            if next(iter(value)) != table.key_types[table.hash_key]:
                raise validation("One or more parameter values were invalid: Condition parameter type does not "
                                 "match schema type")
            hash_value = sort_key(value)
        elif attribute is not None and attribute == table.range_key and not ranged and part[1] != "<>":
            ranged = True
            range_test = _range_test(part, names, values)
        else:
            raise validation("Query key condition not supported")
    if hash_value is None:
        raise validation(f"Query condition missed key schema element: {table.hash_key}")
    return hash_value, range_test


def _range_test(part: tuple[Any, ...], names: Names, values: Values) -> Callable[[Item], bool]:
    test = compile_condition(part)
    return lambda item: test(item, names, values)


def _conjuncts(ast: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    parts = list(ast[1]) if ast[0] == "and" else [ast]
    for part in parts:
        if not (part[0] in ("cmp", "between") or (part[0] == "func" and part[1] == "begins_with")):
            raise validation("Invalid operator used in KeyConditionExpression")
    if len(parts) > 2:
        raise validation("Conditions can be of length 1 or 2 only")
    return parts


def _key_attribute(part: tuple[Any, ...], names: Names) -> str | None:
    """The key attribute a key condition constrains; only `path op :values` forms are valid."""
    operands = part[2] if part[0] == "func" else part[2:] if part[0] == "cmp" else part[1:]
    target, rest = operands[0], operands[1:]
    if target[0] != "path" or len(target[1]) != 1 or any(operand[0] != "value" for operand in rest):
        raise validation("Invalid KeyConditionExpression: the key must be compared with expression values")
    name = resolve(target[1], names)[0]
    return name if isinstance(name, str) else None


def _page(request: Request, table: Table, candidates: Iterable[Item], *, filter_: ConditionExpr | None,
          projection: tuple[tuple[PathSpec, ...], frozenset[str]] | None, names: Names, values: Values) -> Response:
    limit = request.get("Limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise validation("1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must "
                         "have value greater than or equal to 1")
    if filter_ is not None:
        filter_.check(values)
    select = request.get("Select") or ("SPECIFIC_ATTRIBUTES" if projection else "ALL_ATTRIBUTES")
    if select not in ("ALL_ATTRIBUTES", "COUNT", "SPECIFIC_ATTRIBUTES"):
        raise validation(f"Select {select} is not supported for a table")
    paths = [resolve(path, names) for path in projection[0]] if projection else []
    if projection:
        overlap_check(paths, "ProjectionExpression")
    items: list[Item] = []
    scanned, last, previous = 0, None, None
    for item in candidates:
        if limit is not None and scanned == limit and previous is not None:
            last = table.key_item(previous)  # only when more items follow, as moto does
            break
        scanned += 1
        previous = item
        if filter_ is None or filter_.evaluate(item, names, values):
            items.append(item)
    response: Response = {"Count": len(items), "ScannedCount": scanned}
    if select != "COUNT":
        response["Items"] = [project(item, paths) for item in items] if paths else items
    if last is not None:
        response["LastEvaluatedKey"] = last
    return response

