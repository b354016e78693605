"""1:1 calls between headless Chromium (the JS SDK, loaded from the API) and a Python-SDK identity, through the
media node of the real local stack: what each side hears is checked by its content (frequency, energy), in the
browser through WebRTC stats and an analyser on the remote audio."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.browser.chromium import MICROPHONE_TONE_HZ, unavailable
from tests.browser.conftest import Tab
from tests.browser.harness import (
    SECOND,
    browser_event,
    browser_events,
    connect_browser,
    heard_by_browser,
    python_hears,
    stats,
    webrtc_token,
)
from tests.support.audio import dominant_frequency, rms
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]

PYTHON_TONE_HZ = 1000


@pytest.mark.asyncio
async def test_a_browser_calls_python_and_they_hear_each_other_until_mute_and_hangup(
    stack: Stack, tab: Tab, tmp_path: Path
) -> None:
    await connect_browser(tab, stack, "carol")
    dave = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "dave"))
    try:
        dave_hears = AudioSink()
        await tab.page.evaluate("harness.call('dave', {video: true})")
        incoming = await asyncio.wait_for(dave.incoming_calls.get(), 10)
        assert (incoming.peer, incoming.peer_display_name, incoming.video) == ("carol", "Carol Example", True)
        await browser_event(tab, "ringing")

        await incoming.accept(audio_source=ToneSource(PYTHON_TONE_HZ), audio_sink=dave_hears)
        await incoming.media_connected()
        await browser_event(tab, "established")
        state = await tab.page.evaluate("harness.state()")
        assert state["status"] == "ESTABLISHED" and state["counterpart"]["identity"] == "dave"
        assert state["id"]
        await asyncio.sleep(1.5)  # jitter buffers fill

        # the browser hears Python's tone: energy in its inbound-rtp stats and, by frequency, in an analyser
        energy, received = await heard_by_browser(tab)
        assert received > 2000 and energy > 0.01, (energy, received)
        peak = await tab.page.evaluate("harness.peakFrequency()")
        assert abs(peak["frequency"] - PYTHON_TONE_HZ) < 30, peak

        # Python hears the browser's microphone
        loud = await python_hears(dave_hears)
        assert abs(dominant_frequency(loud) - MICROPHONE_TONE_HZ) < 20
        assert rms(loud) > 300, rms(loud)  # Chromium's audio processing lowers the level

        # the browser sends camera video while its camera is on
        before = (await stats(tab))["videoOut"]["framesEncoded"]
        await asyncio.sleep(1)
        assert (await stats(tab))["videoOut"]["framesEncoded"] - before > 5
        await tab.page.screenshot(path=str(tmp_path / "call.png"))

        # mute: the far end hears silence, then the tone again
        await tab.page.evaluate("harness.mute(true)")
        await asyncio.sleep(0.5)  # what was already in flight
        muted = await python_hears(dave_hears)
        assert len(muted) > SECOND // 2 and rms(muted) < rms(loud) / 50, (rms(muted), rms(loud))
        await tab.page.evaluate("harness.mute(false)")
        await asyncio.sleep(0.5)
        assert rms(await python_hears(dave_hears)) > 300

        # camera off: no more video frames go out; on again: they do
        await tab.page.evaluate("harness.cameraVideo(false)")
        await browser_event(tab, "camera-video-removed")
        await asyncio.sleep(0.5)
        off = (await stats(tab))["videoOut"]["framesEncoded"]
        await asyncio.sleep(1)
        assert (await stats(tab))["videoOut"]["framesEncoded"] == off
        await tab.page.evaluate("harness.cameraVideo(true)")
        await browser_event(tab, "camera-video-added")
        await asyncio.sleep(1)
        assert (await stats(tab))["videoOut"]["framesEncoded"] - off > 5

        await tab.page.evaluate("harness.hangup()")
        assert await incoming.ended() == "NORMAL_HANGUP"
        assert (await browser_event(tab, "hangup"))["errorCode"] == "NORMAL_HANGUP"
        state = await tab.page.evaluate("harness.state()")
        assert state["status"] == "FINISHED" and state["duration"] >= 5
        assert tab.errors == []
    finally:
        await dave.close()


@pytest.mark.asyncio
async def test_python_calls_a_browser_that_accepts_and_hears_the_hangup(stack: Stack, tab: Tab) -> None:
    await connect_browser(tab, stack, "erin")
    frank = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "frank"))
    try:
        frank_hears = AudioSink()
        call = await frank.call_webrtc("erin", audio_source=ToneSource(PYTHON_TONE_HZ), audio_sink=frank_hears)
        await browser_event(tab, "incoming-webrtc-call")
        assert (await tab.page.evaluate("harness.state()"))["counterpart"] == {
            "type": "WEBRTC",
            "identity": "frank",
            "displayName": "Frank Example",
        }
        await call.ringing()
        await tab.page.evaluate("harness.accept()")
        await call.media_connected()
        await browser_event(tab, "established")
        await asyncio.sleep(1.5)

        energy, received = await heard_by_browser(tab)
        assert received > 2000 and energy > 0.01, (energy, received)
        heard = await python_hears(frank_hears)
        assert abs(dominant_frequency(heard) - MICROPHONE_TONE_HZ) < 20 and rms(heard) > 300
        assert (await stats(tab))["videoOut"] is None  # an audio call offers no video

        # text both ways: each send completes once the other SDK has acknowledged the text
        sent = await tab.page.evaluate("harness.sendText('hello from the browser')")
        text = await asyncio.wait_for(call.messages.get(), 5)
        assert (text.text, text.from_, text.direct, text.messageId) == (
            "hello from the browser",
            "erin",
            False,
            sent.get("id"),
        ), sent
        direct = await tab.page.evaluate("harness.sendText('just for frank', {identity: 'frank'})")
        assert (await asyncio.wait_for(call.messages.get(), 5)).direct and "id" in direct, direct
        refused = await tab.page.evaluate("harness.sendText('for nobody', 'nobody')")
        assert refused == {"error": "UNKNOWN_PARTICIPANT"}
        assert await call.send_text("hello from python") == "erin"  # the browser acknowledged it
        message = (await browser_event(tab, "data-channel-message"))["detail"]
        assert (message["text"], message["from"]["identity"], message["direct"]) == (
            "hello from python",
            "frank",
            False,
        )

        # network quality: on loopback both links are EXCELLENT (5), and each side hears about the other's
        local = (await browser_event(tab, "network-quality-changed"))["detail"]
        assert local["networkQuality"] == 5 and local["mos"] >= 4.2, local
        assert (await browser_event(tab, "remote-network-quality-changed"))["detail"] == {"networkQuality": 5}
        assert len(await browser_events(tab, "network-quality-changed")) == 1  # only changes are reported

        await call.hangup()
        assert await call.ended() == "NORMAL_HANGUP"
        assert (await browser_event(tab, "hangup"))["errorCode"] == "NORMAL_HANGUP"
        assert tab.errors == []
    finally:
        await frank.close()


@pytest.mark.asyncio
async def test_a_browser_that_declines_ends_the_callers_call_as_rejected(stack: Stack, tab: Tab) -> None:
    await connect_browser(tab, stack, "grace")
    heidi = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "heidi"))
    try:
        call = await heidi.call_webrtc("grace")
        await browser_event(tab, "incoming-webrtc-call")
        await tab.page.evaluate("harness.decline()")
        assert await call.ended() == "REJECTED"
        assert (await browser_event(tab, "hangup"))["errorCode"] == "REJECTED"
    finally:
        await heidi.close()


@pytest.mark.asyncio
async def test_calling_an_identity_that_is_not_connected_ends_with_destination_not_found(
    stack: Stack, tab: Tab
) -> None:
    await connect_browser(tab, stack, "ivan")
    await tab.page.evaluate("harness.call('nobody-here')")
    assert (await browser_event(tab, "hangup"))["errorCode"] == "DESTINATION_NOT_FOUND"
    # one call at a time: the finished call no longer blocks the next
    await tab.page.evaluate("harness.call('nobody-either')")
    await tab.page.wait_for_function("harness.events.filter(e => e.name === 'hangup').length === 2")
