"""The boundaries the code keeps: which package may import which outside library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "app.py", *sorted((ROOT / "bot").rglob("*.py")), *sorted((ROOT / "cards").rglob("*.py"))]
# Library (top-level module) -> the only folder allowed to import it.
FENCED = {
    "botbuilder": "bot/teams",
    "botframework": "bot/teams",
    "msgraph": "bot/graph",
    "msgraph_core": "bot/graph",
    "kiota_abstractions": "bot/graph",
    "kiota_http": "bot/graph",
    "kiota_authentication_azure": "bot/graph",
    "azure": "bot/graph",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_outside_libraries_stay_behind_their_gateway(path: Path) -> None:
    where = path.relative_to(ROOT).as_posix()
    trespassing = {lib for lib in _imports(path) & FENCED.keys() if not where.startswith(FENCED[lib] + "/")}
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
