"""Text in a room between two headless Chromium pages (the JS SDK's `room.dataChannel()`) and a Python-SDK
participant, through the media node of the real local stack: broadcasts reach everyone else, direct texts only their
target, every sender hears the acknowledgement, and a text for someone who is not there is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from switchboard_rtc import RtcClient
from tests.browser.chromium import unavailable
from tests.browser.conftest import Tab
from tests.browser.harness import browser_event, browser_events, connect_browser, webrtc_token
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]


def text_is(text: str) -> str:
    return f"e.detail.text === {text!r}"


async def texts(tab: Tab) -> list[dict[str, Any]]:
    """What the page received as room text: [{text, from, isDirect}]."""
    found: list[dict[str, Any]] = await tab.page.evaluate(
        "harness.events.filter(e => e.name === 'text-received').map(e => "
        "({ text: e.detail.text, from: e.detail.from.identity, isDirect: e.detail.isDirect }))"
    )
    return found


@pytest.mark.asyncio
async def test_two_browsers_and_python_exchange_text_in_a_room(stack: Stack, two_tabs: tuple[Tab, Tab]) -> None:
    rita, sam = two_tabs
    for tab, identity in ((rita, "rita"), (sam, "sam")):
        await connect_browser(tab, stack, identity)
        await tab.page.evaluate("harness.joinRoom('chat-room')")
        await browser_event(tab, "room-joined")
    pete = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "pete"))
    try:
        room = await pete.join_room("chat-room")
        assert set(room.participants) == {"rita", "sam"}

        # a browser's broadcast reaches the other browser and Python; its promise resolves once both have it
        sent = await rita.page.evaluate("harness.sendText('hello room')")
        assert "id" in sent, sent
        received = (await browser_events(sam, "text-received", where=text_is("hello room")))[0]["detail"]
        assert (received["from"]["identity"], received["isDirect"]) == ("rita", False)
        from_rita = await asyncio.wait_for(room.messages.get(), 10)
        assert (from_rita.from_, from_rita.text, from_rita.direct) == ("rita", "hello room", False)
        delivered = (await browser_events(rita, "text-delivered", where=f"e.detail.id === {sent['id']!r}"))[0]
        assert delivered["detail"]["delivered"] is True
        assert sorted(delivered["detail"]["recipients"]) == ["pete", "sam"]

        # a direct text from a browser reaches only Python
        direct = await sam.page.evaluate("harness.sendText('psst pete', 'pete')")
        assert "id" in direct, direct
        whisper = await asyncio.wait_for(room.messages.get(), 10)
        assert (whisper.from_, whisper.text, whisper.direct) == ("sam", "psst pete", True)

        # Python's broadcast and direct text reach the browsers
        delivery = await room.deliver("hi browsers")
        assert sorted(delivery.recipients) == ["rita", "sam"] and delivery.delivered
        assert await room.send_text("just rita", to="rita") == "rita"
        await browser_events(rita, "text-received", where=text_is("just rita"))
        for tab in (rita, sam):
            await browser_events(tab, "text-received", where=text_is("hi browsers"))

        # nobody of that identity is in the room: the browser's send is refused with a clear error
        refused = await rita.page.evaluate("harness.sendText('anyone?', 'nobody')")
        assert refused == {"error": "UNKNOWN_PARTICIPANT"}

        await asyncio.sleep(0.5)  # anything misrouted would have arrived by now
        assert await texts(rita) == [  # never its own text, nor sam's whisper to pete
            {"text": "hi browsers", "from": "pete", "isDirect": False},
            {"text": "just rita", "from": "pete", "isDirect": True},
        ]
        assert await texts(sam) == [
            {"text": "hello room", "from": "rita", "isDirect": False},
            {"text": "hi browsers", "from": "pete", "isDirect": False},
        ]
        assert room.messages.empty()
        assert rita.errors == [] and sam.errors == []
    finally:
        await pete.close()
