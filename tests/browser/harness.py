"""Driving the test page's `window.harness` from Python: tokens, connecting, waiting for what the page recorded,
and reading what each side hears."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

from switchboard_rtc import AudioSink
from tests.browser.conftest import Tab
from tests.support.stack import Stack

SECOND = 48000  # samples at the Python sink


def webrtc_token(stack: Stack, identity: str) -> str:
    response = httpx.post(
        f"{stack.url}/webrtc/1/token",
        headers=stack.headers,
        json={"identity": identity, "displayName": f"{identity.title()} Example"},
    )
    response.raise_for_status()
    return str(response.json()["token"])


async def connect_browser(tab: Tab, stack: Stack, identity: str) -> None:
    connected = await tab.page.evaluate(
        "([token, nodeUrl]) => harness.connect(token, nodeUrl)",
        [webrtc_token(stack, identity), stack.ready["mediaUrl"]],
    )
    assert connected == identity


async def browser_events(
    tab: Tab, name: str, count: int = 1, where: str = "true", timeout: float = 15
) -> list[dict[str, Any]]:
    """The events `name` the page recorded for which the JS expression `where` (over `e`) holds, once there are at
    least `count` of them."""
    found = f"harness.events.filter(e => e.name === {json.dumps(name)} && ({where}))"
    try:
        await tab.page.wait_for_function(f"{found}.length >= {count}", timeout=timeout * 1000)
    except Exception as error:
        seen = await tab.page.evaluate("harness.events")
        raise AssertionError(f"fewer than {count} {name!r} ({where}) in the browser: {seen} {tab.errors}") from error
    events: list[dict[str, Any]] = await tab.page.evaluate(found)
    return events


async def browser_event(tab: Tab, name: str, timeout: float = 15) -> dict[str, Any]:
    """The first event `name` the page recorded, waiting for it."""
    return (await browser_events(tab, name, timeout=timeout))[0]


async def stats(tab: Tab) -> dict[str, Any]:
    result: dict[str, Any] = await tab.page.evaluate("harness.stats()")
    return result


async def heard_by_browser(tab: Tab, seconds: float = 1.0) -> tuple[float, float]:
    """(audio energy, bytes) the browser received in the next `seconds`, from inbound-rtp stats."""
    before = (await stats(tab))["audioIn"]
    await asyncio.sleep(seconds)
    after = (await stats(tab))["audioIn"]
    return (
        after["totalAudioEnergy"] - before["totalAudioEnergy"],
        after["bytesReceived"] - before["bytesReceived"],
    )


async def python_hears(sink: AudioSink, seconds: float = 1.0) -> list[int]:
    """What the Python side received over the next `seconds` (the sink keeps everything; take the new part)."""
    start = len(sink.samples)
    await asyncio.sleep(seconds)
    return list(sink.samples[start:])


async def until(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Wait for `condition` (checked every 50 ms) to hold; fail naming `what` after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)
