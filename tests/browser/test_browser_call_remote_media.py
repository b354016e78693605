"""What each side of a 1:1 call between headless Chromium (the JS SDK) and a Python-SDK identity hears about the
other's media: screen share and mute, as `infobip-rtc`'s WebrtcCall events (`remote-screen-share-added`,
`remote-muted`, ...), carried by the media node of the real local stack. The fake "screen" is the size of the window
(900x520), wider than the fake camera's 4:3, so what arrives is checked by its shape."""

from __future__ import annotations

import asyncio

import pytest

from switchboard_rtc import AudioSink, ColorSource, RtcClient, ToneSource, VideoSink
from tests.browser.chromium import unavailable
from tests.browser.conftest import Tab
from tests.browser.harness import browser_event, browser_events, connect_browser, until, webrtc_token
from tests.support.audio import rms
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]


@pytest.mark.asyncio
async def test_chromium_shares_its_screen_and_python_mutes_and_each_side_hears_it(stack: Stack, tab: Tab) -> None:
    await connect_browser(tab, stack, "rosa")
    sam = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "sam"))
    try:
        sam_sees = VideoSink()
        await tab.page.evaluate("harness.call('sam', {video: true})")
        incoming = await asyncio.wait_for(sam.incoming_calls.get(), 10)
        await incoming.accept(audio_source=ToneSource(1000), audio_sink=AudioSink(), video_sink=sam_sees)
        await browser_event(tab, "established")
        camera = await incoming.next_event("remote-camera-video-added", timeout=15)
        await until(lambda: sam_sees.size == (640, 480), f"Python decodes the browser's camera ({sam_sees.size})")

        # the browser shares its screen: Python hears it is a screen share, on the video it receives
        assert await tab.page.evaluate("harness.screenShare(true)") == {"ok": True}
        assert (await incoming.next_event()).name == "remote-camera-video-removed"
        shared = await incoming.next_event()
        assert shared.name == "remote-screen-share-added"
        assert shared.track is camera.track is incoming.remote_video  # the screen took the camera's place
        await until(lambda: sam_sees.size is not None and sam_sees.size[0] / sam_sees.size[1] > 1.6, "the screen")

        # Python mutes: the page hears it (and silence), then the unmute
        incoming.mute(True)
        await browser_event(tab, "remote-muted")
        assert (await tab.page.evaluate("harness.state()"))["remoteMuted"] is True
        incoming.mute(False)
        await browser_event(tab, "remote-unmuted")
        assert (await tab.page.evaluate("harness.state()"))["remoteMuted"] is False

        # Python shares a screen too: the page announces it in place of Python's camera
        await browser_event(tab, "remote-camera-video-added")
        incoming.screen_share(ColorSource((90, 200, 60), width=640, height=360))
        await browser_event(tab, "remote-screen-share-added")
        removed = await browser_events(tab, "remote-camera-video-removed")
        assert removed and (await tab.page.evaluate("harness.state()"))["hasRemoteScreenShare"] is True

        # the browser stops sharing: Python hears the camera is back
        assert await tab.page.evaluate("harness.screenShare(false)") == {"ok": True}
        assert (await incoming.next_event()).name == "remote-screen-share-removed"
        assert (await incoming.next_event()).name == "remote-camera-video-added"
        await until(lambda: sam_sees.size == (640, 480), f"Python decodes the camera again ({sam_sees.size})")
        await tab.page.evaluate("harness.hangup()")
        assert await incoming.ended() == "NORMAL_HANGUP"
    finally:
        await sam.close()


@pytest.mark.asyncio
async def test_a_dropped_signalling_connection_leaves_the_call_up_and_the_page_resumes_it(
    stack: Stack, tab: Tab
) -> None:
    await connect_browser(tab, stack, "tara")
    uma = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "uma"))
    try:
        uma_hears = AudioSink()
        call = await uma.call_webrtc("tara", audio_source=ToneSource(1000), audio_sink=uma_hears)
        await browser_event(tab, "incoming-webrtc-call")
        await tab.page.evaluate("harness.accept()")
        await browser_event(tab, "established")
        await call.media_connected()

        await tab.page.evaluate("harness.dropConnection()")
        await browser_events(tab, "reconnecting", where="e.target === 'call'")
        assert (await call.next_event("remote-disconnected")).name == "remote-disconnected"
        await browser_events(tab, "reconnected", where="e.target === 'call'")
        assert (await call.next_event("remote-reconnected", timeout=20)).name == "remote-reconnected"
        assert not call.is_ended
        assert (await tab.page.evaluate("harness.state()"))["status"] == "ESTABLISHED"
        assert not await browser_events(tab, "hangup", count=0)

        # media kept flowing: the browser hears Python's tone, Python hears the browser's microphone
        peak = await tab.page.evaluate("harness.peakFrequency()")
        assert abs(peak["frequency"] - 1000) < 30, peak
        await until(lambda: rms(uma_hears.samples[-9600:]) > 500, "Python hears the browser")

        # and the page controls the call again: mute reaches Python, hangup ends it
        await tab.page.evaluate("harness.mute(true)")
        assert (await call.next_event("remote-muted")).name == "remote-muted"
        await tab.page.evaluate("harness.hangup()")
        assert await call.ended() == "NORMAL_HANGUP"
        assert (await browser_event(tab, "hangup"))["errorCode"] == "NORMAL_HANGUP"
        # the client is usable again: the next call goes out
        await tab.page.evaluate("harness.call('nobody-here')")
        await tab.page.wait_for_function("harness.events.filter(e => e.name === 'hangup').length === 2")
    finally:
        await uma.close()
