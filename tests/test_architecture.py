"""The layers of cnaspider: no import points up a layer, and no modules import each other in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("cnaspider", "scheduler", "localcna")

# Lowest first: a module may import from its own layer and any layer before it.
LAYERS = (
    "cnaspider.extraction",
    "cnaspider.archive",
    "cnaspider.options",
    "cnaspider.publishing",
    "cnaspider.crawl",
    "cnaspider.tools",
    "scheduler",
    # The console command fronts the scheduler's commands and the tools alike, so it sits
    # above both; nothing imports it.
    "cnaspider.cli",
)
# The local CNA is test and demo infrastructure: only the demo tool may use it, and it uses nothing of cnaspider.
LOCALCNA_USERS = {"cnaspider.tools.demo"}
# ``python -m cnaspider.probe`` and its kin: each only starts the tool of the same name.
COMMANDS = {
    f"cnaspider.{tool}" for tool in ("probe", "render", "history", "rebuild", "demo", "backfill")
}


def modules() -> dict[str, Path]:
    """Every module of the installed packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "data" in path.relative_to(REPO).parts:
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports, at any depth of its code."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def layer(name: str) -> int | None:
    for rank, prefix in enumerate(LAYERS):
        if name == prefix or name.startswith(prefix + "."):
            return rank
    return None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def test_the_layers_cover_every_module(graph: dict[str, set[str]]) -> None:
    loose = [
        name
        for name in graph
        if layer(name) is None
        and name not in {"cnaspider", *COMMANDS}
        and not name.startswith("localcna")
    ]
    assert not loose, f"modules outside every layer: {loose}"


def test_each_command_only_starts_its_tool(graph: dict[str, set[str]]) -> None:
    for command in COMMANDS:
        tool = command.replace("cnaspider.", "cnaspider.tools.")
        assert graph[command] <= {tool, "cnaspider.tools"}, command


def test_no_import_points_up_a_layer(graph: dict[str, set[str]]) -> None:
    upward = []
    for name, targets in graph.items():
        for target in targets:
            if target.startswith("localcna") and not name.startswith("localcna"):
                if name not in LOCALCNA_USERS:
                    upward.append(f"{name} -> {target} (the local CNA is test infrastructure)")
                continue
            if name.startswith("localcna") and not target.startswith("localcna"):
                upward.append(f"{name} -> {target} (the local CNA stands apart)")
                continue
            mine, theirs = layer(name), layer(target)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{name} -> {target}")
    assert not upward, "imports that point up a layer:\n" + "\n".join(sorted(upward))


@pytest.mark.xfail(
    strict=True,
    reason="feeds -> edits_feed -> listings -> feeds: the one-publisher step removes it",
)
def test_no_import_cycle(graph: dict[str, set[str]]) -> None:
    # Tarjan's strongly connected components: any component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            # A package's __init__ importing nothing is no cycle; a module and its package are.
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"
