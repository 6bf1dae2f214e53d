"""The shared layer's import graph has no cycle: a module only builds on modules below it."""

from __future__ import annotations

import ast
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "shared"


def module_name(path: Path) -> str:
    parts = path.relative_to(LAYER).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_at_load(path: Path) -> set[str]:
    """`shared` modules a module imports when it is loaded (top level, not under TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for child in ast.walk(node) if isinstance(node, ast.If | ast.Try) else [node]:
            if isinstance(child, ast.ImportFrom) and child.module and child.module.startswith("shared"):
                found.add(child.module)
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names if alias.name.startswith("shared"))
    return found


def layer_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in LAYER.rglob("*.py")}
    return {name: {target for target in imports_at_load(path) if target in modules and target != name}
            for name, path in modules.items()}


def test_the_layer_has_no_import_cycle() -> None:
    graph = layer_graph()
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", " -> ".join([*trail, module])
        state[module] = "open"
        for target in sorted(graph[module]):
            visit(target, [*trail, module])
        state[module] = "done"

    for module in sorted(graph):
        visit(module, [])


def test_the_logger_is_at_the_bottom() -> None:
    # Everything may log; the logger itself builds on nothing but the leaf that reads pg8000's errors
    assert layer_graph()["shared.logger"] <= {"shared.pgconnect"}
    assert layer_graph()["shared.pgconnect"] == set()
