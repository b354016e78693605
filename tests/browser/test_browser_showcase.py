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


async def renders_frames(page: Any, figure: str) -> bool:
    """Whether the <video> in the figure `figure` (an id) renders new frames (requestVideoFrameCallback)."""
    script = """(id) => new Promise((resolve) => {
      const video = document.querySelector(`#${CSS.escape(id)} video`);
      if (!video) return resolve(false);
      let frames = 0;
      const counted = () => (++frames >= 3 ? resolve(true) : video.requestVideoFrameCallback(counted));
      video.requestVideoFrameCallback(counted);
      setTimeout(() => resolve(false), 10000);
    })"""
    return bool(await page.evaluate(script, figure))


@pytest.mark.asyncio
async def test_two_showcase_pages_meet_in_a_video_room_and_chat(stack: Stack, microphone: Path, tmp_path: Path) -> None:
    errors: list[str] = []
    async with chromium(microphone) as browser:
        uma = await sign_in(browser, stack, "uma", errors)
        vic = await sign_in(browser, stack, "vic", errors)
        for page in (uma, vic):
            await page.fill("#room-input", "showcase-room")
            await page.click("#join-button")  # with video (the default)
            await text_is(page, "call-status", "ESTABLISHED")
        await uma.wait_for_selector("#participant-vic", state="attached", timeout=10_000)

        # each page shows the other's camera, frame after frame
        await uma.wait_for_selector("#camera-of-vic video", timeout=20_000)
        await vic.wait_for_selector("#camera-of-uma video", timeout=20_000)
        assert await renders_frames(uma, "camera-of-vic") and await renders_frames(vic, "camera-of-uma")

        # room chat: to everyone, acknowledged; then directly to one participant
        await uma.fill("#chat-input", "hello room")
        await uma.click("#chat-send")
        await text_is(vic, "chat-log", "uma: hello room")
        await text_is(uma, "chat-log", "me: hello room ✓")
        await vic.select_option("#chat-to", "uma")
        await vic.fill("#chat-input", "just you")
        await vic.click("#chat-send")
        await text_is(uma, "chat-log", "vic (to you): just you")
        await text_is(vic, "chat-log", "me (to uma): just you ✓")

        # a screen share shows beside the camera on the other page
        await uma.click("#share")
        await text_is(uma, "share", "Stop sharing")
        await vic.wait_for_selector("#screen-of-uma video", timeout=20_000)
        assert await renders_frames(vic, "screen-of-uma")
        assert await vic.is_visible("#camera-of-uma")
        await uma.screenshot(path=str(tmp_path / "showcase-room-uma.png"))
        await vic.screenshot(path=str(tmp_path / "showcase-room-vic.png"))
        await uma.click("#share")
        await vic.wait_for_selector("#screen-of-uma", state="detached", timeout=15_000)

        await uma.click("#hangup")  # "Leave"
        await uma.wait_for_selector("#call-panel", state="hidden", timeout=10_000)
        await vic.wait_for_selector("#camera-of-uma", state="detached", timeout=15_000)
        await text_is(vic, "log", "participant-left uma")
    assert errors == []
