"""A browser calls an application (`rtc.callApplication`, the JS SDK in headless Chromium) on the real local stack;
the test is the application: it learns about the call at its webhook (CALL_RECEIVED), rings, answers and says a
sentence through the Calls API, and the page receives the speech as audio energy; in a conference the application
broadcasts text, which the page's data channel receives; the application's hangup ends the call in the page."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.browser.chromium import unavailable
from tests.browser.conftest import Tab
from tests.browser.harness import browser_event, connect_browser, heard_by_browser, stats
from tests.support.payloads import subscription
from tests.support.receiver import Receiver
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]

EVENTS = ["CALL_RECEIVED", "CALL_RINGING", "CALL_ESTABLISHED", "CALL_FINISHED", "SAY_FINISHED", "ERROR"]
SENTENCE = "Welcome to Switchboard. Your order number forty two is on its way, and it will arrive tomorrow morning."


async def webhook_event(receiver: Receiver, call_id: str, kind: str, timeout: float = 20) -> dict[str, Any]:
    for _ in range(int(timeout / 0.1)):
        for request in receiver.accepted():
            if request.event["callId"] == call_id and request.event["type"] == kind:
                return request.event
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} for {call_id}: {[r.event['type'] for r in receiver.accepted()]}")


@pytest.mark.asyncio
async def test_a_browser_calls_an_application_that_answers_and_speaks(stack: Stack, tab: Tab) -> None:
    api = httpx.Client(base_url=stack.url, headers=stack.headers, timeout=15)
    receiver = Receiver().start()

    async def post(path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await asyncio.to_thread(api.post, path, json=body or {})

    try:
        assert (await post("/calls/1/configurations", {"id": "greeter", "name": "Greeter"})).status_code == 201
        hook = subscription(
            "greeter-events", f"{receiver.url}/events", EVENTS, criteria=[{"callsConfigurationId": "greeter"}]
        )
        assert (await post("/subscriptions/1/subscription/VOICE_VIDEO", hook)).status_code == 201
        await connect_browser(tab, stack, "gina")

        placed = await tab.page.evaluate("harness.callApplication('greeter', { customData: { order: '42' } })")
        assert placed == "greeter"
        await tab.page.wait_for_function("harness.callId()", timeout=15_000)
        call_id = await tab.page.evaluate("harness.callId()")
        received = await webhook_event(receiver, call_id, "CALL_RECEIVED")
        assert received["callsConfigurationId"] == "greeter"

        assert (await post(f"/calls/1/calls/{call_id}/send-ringing")).status_code == 200
        await browser_event(tab, "ringing")
        assert (await post(f"/calls/1/calls/{call_id}/answer")).status_code == 200
        await browser_event(tab, "established")
        await tab.page.wait_for_function("harness.stats().then(s => s.connectionState === 'connected')", timeout=15_000)
        said = await post(f"/calls/1/calls/{call_id}/say", {"text": SENTENCE, "language": "en"})
        assert said.status_code == 200 and said.json() == {"status": "PENDING"}, said.text
        await tab.page.wait_for_function("harness.stats().then(s => s.audioIn !== null)", timeout=15_000)
        speech, received_bytes = await heard_by_browser(tab, 1.5)
        assert received_bytes > 1000 and speech > 0.005, (speech, received_bytes, await stats(tab))
        finished = (await webhook_event(receiver, call_id, "SAY_FINISHED"))["properties"]
        assert finished.get("playedCompletely", True) is True
        quiet, _ = await heard_by_browser(tab, 1.0)  # the sentence is over: what still arrives is silence
        assert speech > 20 * quiet, (speech, quiet)

        # in a conference, the application broadcasts text to its WebRTC calls: the page's data channel gets it
        created = await post("/calls/1/conferences", {"name": "greeting", "callsConfigurationId": "greeter"})
        assert created.status_code == 201, created.text
        conference_id = created.json()["id"]
        added = await asyncio.to_thread(api.put, f"/calls/1/conferences/{conference_id}/call/{call_id}", json={})
        assert added.status_code == 200, added.text
        broadcast = await post(f"/calls/1/conferences/{conference_id}/broadcast-webrtc-text", {"text": "Welcome 👋"})
        assert broadcast.status_code == 200, broadcast.text
        received = (await browser_event(tab, "broadcast-text-received"))["detail"]
        assert received["text"] == "Welcome 👋" and received["date"]

        assert (await post(f"/calls/1/calls/{call_id}/hangup")).status_code == 200
        assert (await browser_event(tab, "hangup"))["errorCode"] == "NORMAL_HANGUP"
        await webhook_event(receiver, call_id, "CALL_FINISHED")
        assert tab.errors == []
    finally:
        receiver.stop()
        api.close()
