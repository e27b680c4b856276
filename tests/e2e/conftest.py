"""The README's run command (`python app.py demo`) and headless Chromium on Debian's /usr/bin/chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

from tests.processes import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
PLAYGROUND_CLI = ROOT / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
REQUIRE_E2E = os.environ.get("LARTRAFF_REQUIRE_E2E") == "1"
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _missing() -> str:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not installed (apt-get install chromium)"
    if shutil.which("node") is None or not PLAYGROUND_CLI.exists():
        return "Agents Playground not installed (npm ci)"
    return ""


@dataclass(frozen=True)
class Demo:
    playground_url: str
    database: Path
    log: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    yield from run_demo(tmp_path_factory.mktemp("demo"))


def run_demo(workdir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Demo]:
    """`python app.py demo` in `workdir`, with the Playground; stopped when the generator is closed."""
    missing = _missing()
    if missing:
        if REQUIRE_E2E:
            pytest.fail(missing)
        pytest.skip(missing)
    database = workdir / "demo.db"
    log = workdir / "demo.log"
    bot_port, playground_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "PORT": str(bot_port),
        "PLAYGROUND_PORT": str(playground_port),
        "MicrosoftAppId": "",
        "PYTHONOPTIMIZE": "2",  # as the container runs the bot: docstrings and asserts stripped
        **(extra_env or {}),
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "app.py", "demo"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(bot_port, process, log)
        wait_for_port(playground_port, process, log)
        yield Demo(f"http://127.0.0.1:{playground_port}/", database, log)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


async def _local_only(route: Route) -> None:
    # The Playground's page would reach for fonts and telemetry on the internet; tests stay on this machine.
    if route.request.url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:")):
        await route.continue_()
    else:
        await route.abort()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser, demo: Demo) -> AsyncIterator[Page]:
    page = await browser.new_page(viewport={"width": 1400, "height": 1100}, locale="sv-SE")
    await page.route("**/*", _local_only)
    await page.goto(demo.playground_url)
    yield page
    await page.close()
