"""The README's run command (`python app.py demo`) and headless Chromium on Debian's /usr/bin/chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"demo exited early:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"port {port} did not open:\n{log.read_text()}")


@dataclass(frozen=True)
class Demo:
    playground_url: str
    database: Path
    log: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    missing = _missing()
    if missing:
        if REQUIRE_E2E:
            pytest.fail(missing)
        pytest.skip(missing)
    workdir = tmp_path_factory.mktemp("demo")
    database = workdir / "demo.db"
    log = workdir / "demo.log"
    bot_port, playground_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "PORT": str(bot_port),
        "PLAYGROUND_PORT": str(playground_port),
        "MicrosoftAppId": "",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "app.py", "demo"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_port(bot_port, process, log)
        _wait_for_port(playground_port, process, log)
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
