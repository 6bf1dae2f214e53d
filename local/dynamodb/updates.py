"""Applying an update expression to an item, and projecting items onto document paths."""

from __future__ import annotations

from typing import Any

from local.dynamodb.expressions import Names, UpdateExpr, Values, get_path, resolve
from local.dynamodb.values import SET_TYPES, Item, Value, arithmetic, validation

Resolved = tuple[str | int, ...]


def _invalid_path() -> Exception:
    return validation("The document path provided in the update expression is invalid for update")


def _wrong_type() -> Exception:
    return validation("An operand in the update expression has an incorrect data type")


def overlap_check(paths: list[Resolved], kind: str) -> None:
    for index, first in enumerate(paths):
        for second in paths[index + 1:]:
            shorter = min(len(first), len(second))
            if first[:shorter] == second[:shorter]:
                raise validation(f"Invalid {kind}: Two document paths overlap with each other; must remove or "
                                 f"rewrite one of these paths; path one: {list(first)}, path two: {list(second)}")


def apply_update(update: UpdateExpr, old: Item, names: Names, values: Values) -> Item:
    """The new item. Every operand is read from the old item first, as DynamoDB does."""
    assignments = [(resolve(path, names), value(old, names, values)) for path, value in update.sets]
    for path, placeholder in update.adds:
        assignments.append((resolved := resolve(path, names), _add(get_path(old, resolved), values[placeholder])))
    removals = [resolve(path, names) for path in update.removes]
    for path, placeholder in update.deletes:
        resolved = resolve(path, names)
        remaining = _delete(get_path(old, resolved), values[placeholder])
        if remaining is None:
            removals.append(resolved)
        else:
            assignments.append((resolved, remaining))
    new = dict(old)
    for path, value in assignments:
        new[path[0]] = value if len(path) == 1 else _set_in(new.get(path[0]), path[1:], value)  # type: ignore
    # Higher list indexes first, so removing one element does not shift the next one removed.
    for path in sorted(removals, key=lambda p: [(1, -e) if isinstance(e, int) else (0, e) for e in p],
                       reverse=False):
        _remove(new, path)
    return new


def _add(existing: Value | None, value: Value) -> Value:
    if existing is None:
        return value
    kind = next(iter(value))
    if next(iter(existing)) != kind:
        raise _wrong_type()
    if kind == "N":
        return {"N": arithmetic(existing["N"], value["N"])}
    present = set(existing[kind])
    return {kind: [*existing[kind], *(element for element in value[kind] if element not in present)]}


def _delete(existing: Value | None, value: Value) -> Value | None:
    kind = next(iter(value))
    if existing is None:
        return None
    if next(iter(existing)) != kind or kind not in SET_TYPES:
        raise _wrong_type()
    gone = set(value[kind])
    remaining = [element for element in existing[kind] if element not in gone]
    return {kind: remaining} if remaining else None


def _set_in(container: Value | None, rest: Resolved, value: Value) -> Value:
    element = rest[0]
    if isinstance(element, int):
        if container is None or "L" not in container:
            raise _invalid_path()
        elements = list(container["L"])
        if element >= len(elements):
            if len(rest) > 1:
                raise _invalid_path()
            elements.append(value)
        else:
            elements[element] = value if len(rest) == 1 else _set_in(elements[element], rest[1:], value)
        return {"L": elements}
    if container is None or "M" not in container:
        raise _invalid_path()
    members = dict(container["M"])
    members[element] = value if len(rest) == 1 else _set_in(members.get(element), rest[1:], value)
    return {"M": members}


def _remove(item: Item, path: Resolved) -> None:
    if len(path) == 1:
        item.pop(path[0], None)  # type: ignore[arg-type]
        return
    top = item.get(path[0])  # type: ignore[arg-type]
    if top is None:
        raise _invalid_path()
    item[path[0]] = _removed_from(top, path[1:])  # type: ignore[index]


def _removed_from(container: Value, rest: Resolved) -> Value:
    element = rest[0]
    if isinstance(element, int):
        if "L" not in container:
            raise _invalid_path()
        elements = list(container["L"])
        if element < len(elements):
            if len(rest) == 1:
                del elements[element]
            else:
                elements[element] = _removed_from(elements[element], rest[1:])
        return {"L": elements}
    if "M" not in container:
        raise _invalid_path()
    members = dict(container["M"])
    if len(rest) == 1:
        members.pop(element, None)
    elif element in members:
        members[element] = _removed_from(members[element], rest[1:])
    else:
        raise _invalid_path()
    return {"M": members}


def project(item: Item, paths: list[Resolved]) -> Item:
    """The parts of `item` the (non-overlapping) paths name, nested as in the item."""
    tree: dict[Any, Any] = {}
    for path in paths:
        value = get_path(item, path)
        if value is not None:
            _merge(tree, path, value)
    return {name: _build(node) for name, node in tree.items()}


def _merge(tree: dict[Any, Any], path: Resolved, value: Value) -> None:
    if len(path) == 1:
        tree[path[0]] = ("value", value)
        return
    kind = "list" if isinstance(path[1], int) else "map"
    node = tree.get(path[0])
    if node is None:
        node = tree[path[0]] = (kind, {})
    _merge(node[1], path[1:], value)


def _build(node: tuple[str, Any]) -> Value:
    kind, content = node
    if kind == "value":
        return content
    if kind == "map":
        return {"M": {name: _build(child) for name, child in content.items()}}
    return {"L": [_build(content[index]) for index in sorted(content)]}
