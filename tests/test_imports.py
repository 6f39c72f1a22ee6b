"""The project's import graph, read from the source (imports inside functions included):
no cycles, and what serving reaches."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("inference", "webapp", "train", "export", "bench")
SERVING = ("app", "inference", "inference.engine.front")
#: The command line's `evaluate` may download the data set; nothing of it reaches torch either
COMMANDS = ("inference.cli",)
#: The engine's parts behind its front door (inference/engine/front.py PhotoSearch)
ENGINE_INSIDE = ("inference.engine.folders", "inference.engine.withholding", "inference.engine.searching")


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


@cache
def _graph() -> dict[str, set[str]]:
    """module -> the project modules (and top-level outside packages) it imports anywhere in it."""
    paths = [ROOT / "app.py"] + [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    modules = {_module_name(p): p for p in paths}
    graph = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        ours = {m for m in imported if m in modules and m != name}
        outside = {m.split(".")[0] for m in imported if m.split(".")[0] not in PACKAGES}
        graph[name] = ours | outside
    return graph


def _reachable(start: str) -> set[str]:
    graph, seen, todo = _graph(), set(), [start]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen


def test_the_graph_is_read():
    graph = _graph()
    assert "inference.models.exported" in graph["inference.engine.front"] and "torch" in graph["train.model"]
    assert "train.openclip" in graph["train.encoders"]  # an import inside a function counts


def test_no_module_imports_itself_through_others():
    cycles = sorted(m for m in _graph() if any(m in _reachable(d) for d in _graph()[m] if d in _graph()))
    assert cycles == []


@pytest.mark.parametrize("entry", SERVING + COMMANDS)
def test_serving_reaches_neither_torch_nor_training_nor_the_downloader(entry):
    reached = _reachable(entry)
    assert "torch" not in reached and [m for m in reached if m.startswith(("train", "export"))] == []
    if entry in SERVING:
        assert "inference.data.download" not in reached


def test_only_the_front_door_builds_the_engine():
    """Callers (the app, the CLI, evaluation, bench) build through PhotoSearch alone."""
    outside = {m: deps for m, deps in _graph().items() if not m.startswith("inference.engine")}
    assert sorted(m for m, deps in outside.items() if deps & set(ENGINE_INSIDE)) == []
