"""The boundaries the code keeps: which package may import which outside library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "app.py", *sorted((ROOT / "bot").rglob("*.py")), *sorted((ROOT / "cards").rglob("*.py"))]
# Library (a module and what is under it) -> the only folder allowed to import it.
FENCED = {
    "botbuilder": "bot/teams",
    "botframework": "bot/teams",
    "msgraph": "bot/graph",
    "msgraph_core": "bot/graph",
    "kiota_abstractions": "bot/graph",
    "kiota_http": "bot/graph",
    "kiota_authentication_azure": "bot/graph",
    "azure.identity": "bot/graph",
    "azure.core": "bot/graph",
    "opentelemetry": "bot/telemetry",
    "azure.monitor": "bot/telemetry",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _fence(module: str) -> str | None:
    """The folder a module may be imported from, by its longest fenced prefix; None: anywhere."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        folder = FENCED.get(".".join(parts[:end]))
        if folder is not None:
            return folder
    return None


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_outside_libraries_stay_behind_their_gateway(path: Path) -> None:
    where = path.relative_to(ROOT).as_posix()
    trespassing = {
        module for module in _imports(path) if (fence := _fence(module)) and not where.startswith(fence + "/")
    }
    assert trespassing == set(), f"{where} imports {sorted(trespassing)}"


def test_the_bot_serves_on_uvloop_where_it_exists() -> None:
    import uvloop

    import app

    loop = app._event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_start_up_objects_are_frozen_out_of_the_collectors_scans() -> None:
    import gc

    import app

    threshold = gc.get_threshold()
    try:
        app._settle_garbage_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] > threshold[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


# Names with a leading underscore that libraries document as public (SQLAlchemy's Row, namedtuples).
_PUBLIC_UNDERSCORED = frozenset({"_mapping", "_fields", "_asdict", "_replace", "_make", "_t", "_tuple"})
_EVERYTHING = [
    *SOURCES,
    *(p for p in sorted((ROOT / "tests").rglob("*.py"))),
    *(p for p in sorted((ROOT / "scripts").rglob("*.py"))),
]


def _defined_here() -> set[str]:
    """Every private name our own code defines: functions, classes, attributes and variables."""
    names: set[str] = set()
    for path in _EVERYTHING:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, ast.alias) and node.asname is None and node.name.startswith("_"):
                names.add(node.name)
    return {name for name in names if name.startswith("_")}


def _private_uses(paths: list[Path], ours: set[str]) -> list[str]:
    found = []
    for path in paths:
        if "migrations/versions" in path.as_posix():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            name = node.attr
            if not name.startswith("_") or name.startswith("__") or name in _PUBLIC_UNDERSCORED:
                continue
            if name not in ours:
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_private_attribute_of_a_dependency_is_used() -> None:
    """`x._name` is allowed only where our own code defines `_name`: a private name we never define can only
    be a library's internals, which change without notice (SQLAlchemy 2.1 removed several we used)."""
    assert _private_uses(_EVERYTHING, _defined_here()) == []


def test_the_private_attribute_guard_catches_a_library_internal(tmp_path: Path) -> None:
    """What the storage once did on SQLAlchemy's asyncpg adapter is caught; our own private names are not."""
    probe = tmp_path / "probe.py"
    probe.write_text("async def f(adapter, mine):\n    await adapter._start_transaction()\n    mine._run()\n")
    assert _private_uses([probe], _defined_here()) == ["probe.py:2 adapter._start_transaction"]


def _layer(module: str) -> str | None:
    """A module's layer: `cards`, or the top-level package or module under `bot` (bot.services, bot.turn)."""
    parts = module.split(".")
    if parts[0] == "cards":
        return "cards"
    return ".".join(parts[:2]) if parts[0] == "bot" and len(parts) > 1 else None


def _layer_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SOURCES:
        if "migrations" in path.as_posix() or path.name == "app.py":
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        source = _layer(module)
        if source is None:  # bot/__init__.py
            continue
        for found in _imports_full(path):
            target = _layer(found)
            if target is not None and target != source:
                graph.setdefault(source, set()).add(target)
    return graph


def _imports_full(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_layers_import_each_other_one_way_only() -> None:
    """No cycle between bot's packages and cards: services never import cards or the Teams turn."""
    graph = _layer_imports()
    cycles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for target in graph.get(node, ()):
                if target == start:
                    cycles.append(" -> ".join([*path, start]))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, [*path, target]))
    assert cycles == []
    assert "cards" not in graph["bot.services"]
