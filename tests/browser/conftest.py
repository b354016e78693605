"""Browser tests: headless Debian Chromium driven by Playwright (never `playwright install`), with fake media
devices, against the real local stack. The page under test is served from loopback and imports the SDK from the
API, as an integrator's page would. Skipped with a reason where Chromium or Playwright is missing."""

from __future__ import annotations

import contextlib
import functools
import threading
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from tests.browser.chromium import CHROMIUM, CHROMIUM_FLAGS, MICROPHONE_TONE_HZ
from tests.support.stack import Stack, start_stack

PAGE = Path(__file__).parent / "page"
SAMPLE_RATE = 48000


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = start_stack()
    yield running
    running.stop()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_url(stack: Stack) -> Iterator[str]:
    """The test page on its own loopback origin (so the SDK import and the node are cross-origin, as in real use)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(PAGE)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-page", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html?api={stack.url}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What Chromium's fake microphone says: a steady tone, so the far end can check it by frequency."""
    path = tmp_path_factory.mktemp("fake-media") / "microphone.wav"
    t = np.arange(SAMPLE_RATE * 5) / SAMPLE_RATE
    pcm = (0.3 * 32767 * np.sin(2 * np.pi * MICROPHONE_TONE_HZ * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path


@dataclass
class Tab:
    """A page in headless Chromium, and the errors its scripts reported."""

    page: Any
    errors: list[str] = field(default_factory=list)


async def open_tab(browser: Any, page_url: str) -> Tab:
    tab = Tab(await browser.new_page(viewport={"width": 900, "height": 520}))
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.page.on("console", lambda message: tab.errors.extend([message.text] if message.type == "error" else []))
    await tab.page.goto(page_url)
    await tab.page.wait_for_function("window.harness && window.harness.ready", timeout=10_000)
    return tab


@contextlib.asynccontextmanager
async def chromium(microphone: Path) -> AsyncIterator[Any]:
    """Headless Chromium whose fake microphone plays `microphone`."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={microphone}"],
        )
        try:
            yield browser
        finally:
            with contextlib.suppress(Exception):
                await browser.close()


@pytest_asyncio.fixture
async def tab(page_url: str, microphone: Path) -> AsyncIterator[Tab]:
    async with chromium(microphone) as browser:
        yield await open_tab(browser, page_url)


@pytest_asyncio.fixture
async def two_tabs(page_url: str, microphone: Path) -> AsyncIterator[tuple[Tab, Tab]]:
    """Two pages of one browser: two users on one machine, each with its own SDK client."""
    async with chromium(microphone) as browser:
        yield await open_tab(browser, page_url), await open_tab(browser, page_url)
