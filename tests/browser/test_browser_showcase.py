"""The showcase page (`GET /showcase` on the local stack), used as a person would: two pages sign in as two
identities through the page's demo tokens, one calls the other, the other accepts, and they chat."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import unavailable
from tests.browser.conftest import chromium
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]


async def sign_in(browser: Any, stack: Stack, identity: str, errors: list[str]) -> Any:
    page = await browser.new_page(viewport={"width": 1100, "height": 800})
    page.on("pageerror", lambda error: errors.append(f"{identity}: {error}"))
    page.on(
        "console", lambda message: errors.extend([f"{identity}: {message.text}"] if message.type == "error" else [])
    )
    await page.goto(stack.ready["showcaseUrl"])
    await page.wait_for_function("window.showcase && window.showcase.ready", timeout=10_000)
    await page.fill("#identity-input", identity)
    await page.click("#sign-in")
    await text_is(page, "me", identity)
    return page


async def text_is(page: Any, element: str, text: str) -> None:
    """Wait until the page's element `element` (an id) shows `text`."""
    found = f"document.getElementById({json.dumps(element)}).textContent.includes({json.dumps(text)})"
    await page.wait_for_function(found, timeout=15_000)


@pytest.mark.asyncio
async def test_two_showcase_pages_call_each_other_and_chat(stack: Stack, microphone: Path, tmp_path: Path) -> None:
    errors: list[str] = []
    async with chromium(microphone) as browser:
        sam = await sign_in(browser, stack, "sam", errors)
        tina = await sign_in(browser, stack, "tina", errors)

        await sam.fill("#callee-input", "tina")
        await sam.click("#call-button")
        await tina.wait_for_selector("#incoming:not([hidden])", timeout=10_000)
        assert await tina.text_content("#incoming-from") == "sam"
        await tina.click("#accept")
        await text_is(sam, "call-status", "ESTABLISHED")
        await text_is(tina, "call-status", "ESTABLISHED")

        await sam.fill("#chat-input", "hello tina")
        await sam.click("#chat-send")
        await text_is(tina, "chat-log", "sam: hello tina")
        await text_is(sam, "chat-log", "me: hello tina ✓")  # tina's SDK acknowledged it

        await sam.click("#share")
        await text_is(sam, "share", "Stop sharing")
        await sam.screenshot(path=str(tmp_path / "showcase-sam.png"))
        await tina.screenshot(path=str(tmp_path / "showcase-tina.png"))

        await tina.click("#hangup")
        await sam.wait_for_selector("#call-panel", state="hidden", timeout=10_000)
        await tina.wait_for_selector("#call-panel", state="hidden", timeout=10_000)
        await text_is(sam, "log", "ended: NORMAL_HANGUP")
    assert errors == []
