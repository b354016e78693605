"""Screen share in a room: a headless Chromium page (the JS SDK, fake devices) that joined with its camera shares
its screen too, through the media node of the real local stack. The screen is a second source beside the camera: the
other page is told about it (`participant-screen-share-added`) and a Python-SDK participant decodes it on one of
its video slots, wider than the camera (Chromium's fake screen is the window's size, 900x520; the fake camera is
4:3, 640x480 until the encoder scales it down), while the camera keeps arriving. Stopping the share frees the
slot and tells the others."""

from __future__ import annotations

import asyncio

import pytest

from switchboard_rtc import RtcClient
from switchboard_rtc.video import VideoSink
from tests.browser.chromium import unavailable
from tests.browser.conftest import Tab
from tests.browser.harness import browser_event, browser_events, connect_browser, until, webrtc_token
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]


def frames(sink: VideoSink | None) -> int:
    return sink.frames if sink is not None else 0


async def still_arriving(sink: VideoSink | None, seconds: float = 1.0) -> int:
    before = frames(sink)
    await asyncio.sleep(seconds)
    return frames(sink) - before


def about(identity: str) -> str:
    return f"e.detail.participant.identity === {identity!r}"


@pytest.mark.asyncio
async def test_a_browser_shares_its_screen_beside_its_camera_in_a_room(stack: Stack, two_tabs: tuple[Tab, Tab]) -> None:
    vera, wes = two_tabs
    for tab, identity in ((vera, "vera"), (wes, "wes")):
        await connect_browser(tab, stack, identity)
        await tab.page.evaluate("harness.joinRoom('screens', { video: true })")
        await browser_event(tab, "room-joined")
    tom = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "tom"))
    try:
        room = await tom.join_room("screens", video=True)
        await room.media_connected()
        await until(lambda: frames(room.video_of("vera")) > 10, "python decodes vera's camera", timeout=20)
        assert room.screen_of("vera") is None and not room.participants["vera"].screenShare

        assert await vera.page.evaluate("harness.screenShare(true)") == {"ok": True}
        await browser_event(vera, "screen-share-added")
        shared = await browser_events(wes, "participant-screen-share-added", where=about("vera"))
        assert shared[0]["detail"]["participant"]["identity"] == "vera"
        sharing = f"{about('vera')} && e.detail.participant.screenShare"
        changed = await browser_events(wes, "participant-media-changed", where=sharing)
        assert changed[-1]["detail"]["participant"]["camera"] is True  # the camera stays on beside the screen

        await until(lambda: frames(room.screen_of("vera")) > 10, "python decodes vera's screen", timeout=20)
        screen = room.screen_of("vera")
        assert screen is not None and screen.size is not None
        assert screen.size[0] / screen.size[1] > 1.5, screen.size  # the window's shape, not the camera's 4:3
        assert room.participants["vera"].screenShare
        assert await still_arriving(room.screen_of("vera")) >= 3
        camera = room.video_of("vera")
        assert camera is not None and camera.size is not None and await still_arriving(camera) >= 3
        assert camera.size[0] / camera.size[1] == pytest.approx(4 / 3, abs=0.02), camera.size  # (the encoder may scale)

        assert await vera.page.evaluate("harness.screenShare(false)") == {"ok": True}
        await browser_event(vera, "screen-share-removed")
        await browser_events(wes, "participant-screen-share-removed", where=about("vera"))
        await until(lambda: room.screen_of("vera") is None, "vera's screen slot is freed")
        assert not room.participants["vera"].screenShare
        assert await still_arriving(room.video_of("vera")) >= 3  # the camera carries on
        assert await wes.page.evaluate("harness.roomState().participants.find(p => p.identity === 'vera').camera")
        assert vera.errors == [] and wes.errors == []
    finally:
        await tom.close()
