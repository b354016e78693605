"""Screen share and device switching in a 1:1 call between headless Chromium (the JS SDK) and a Python-SDK identity.

Neither renegotiates: the SDK swaps the track on a sender (`replaceTrack`) and the media node forwards whatever
arrives on the leg's stream. So what is checked is what the far end decodes. The fake camera sends 640x480 (4:3).
Headless Chromium answers `getDisplayMedia` without a prompt (`--use-fake-ui-for-media-stream`), and with fake
devices it captures a fake "screen" the size of the window (900x520 here), so its frames arrive wider than 4:3.
The fake microphones all play the test's tone, so a microphone switch is checked by the tone still arriving, from
the new device's track.
"""

from __future__ import annotations

import asyncio

import pytest

from switchboard_rtc import AudioSink, RtcClient, ToneSource, VideoSink
from tests.browser.chromium import MICROPHONE_TONE_HZ, unavailable
from tests.browser.conftest import Tab
from tests.browser.harness import browser_event, connect_browser, python_hears, until, webrtc_token
from tests.support.audio import dominant_frequency, rms
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]

CAMERA = (640, 480)  # Chromium's fake camera


def aspect(sink: VideoSink) -> float:
    return sink.size[0] / sink.size[1] if sink.size else 0.0


async def new_frames(sink: VideoSink, seconds: float = 1.0) -> int:
    before = sink.frames
    await asyncio.sleep(seconds)
    return sink.frames - before


@pytest.mark.asyncio
async def test_a_shared_screen_replaces_the_camera_at_the_far_end_until_sharing_stops(stack: Stack, tab: Tab) -> None:
    await connect_browser(tab, stack, "oscar")
    peggy = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "peggy"))
    try:
        peggy_sees = VideoSink()
        await tab.page.evaluate("harness.call('peggy', {video: true})")
        incoming = await asyncio.wait_for(peggy.incoming_calls.get(), 10)
        await incoming.accept(audio_source=ToneSource(1000), audio_sink=AudioSink(), video_sink=peggy_sees)
        await browser_event(tab, "established")
        await until(lambda: peggy_sees.frames > 5, "Python decodes the browser's camera")
        assert peggy_sees.size == CAMERA

        # share: the far end decodes the screen (wider than the camera), and keeps receiving video
        assert await tab.page.evaluate("harness.screenShare(true)") == {"ok": True}
        await browser_event(tab, "screen-share-added")
        sending = await tab.page.evaluate("harness.sending()")
        assert sending["video"]["displaySurface"] == "monitor", sending
        await until(lambda: aspect(peggy_sees) > 1.6, f"Python decodes the screen, not the camera ({peggy_sees.size})")
        assert peggy_sees.size is not None and peggy_sees.size[0] == sending["video"]["width"]
        assert await new_frames(peggy_sees) > 10
        state = await tab.page.evaluate("harness.state()")
        assert state["hasScreenShare"] and state["hasCameraVideo"]  # the camera waits for its turn

        # a camera switch while sharing: the new camera waits too, and the screen stays on the wire
        cameras = (await tab.page.evaluate("harness.devices()"))["video"]
        other = next(camera for camera in cameras if camera["label"] == "fake_device_2")  # see chromium.py
        switched = await tab.page.evaluate("id => harness.setVideoInputDevice(id)", other["deviceId"])
        assert switched == {"ok": True}
        await browser_event(tab, "camera-video-updated")
        assert (await tab.page.evaluate("harness.sending()"))["video"]["displaySurface"] == "monitor"

        # stop: the (new) camera comes back at the far end, and video keeps flowing
        assert await tab.page.evaluate("harness.screenShare(false)") == {"ok": True}
        removed = await browser_event(tab, "screen-share-removed")
        assert removed["detail"] == {"reason": "USER_REQUEST"}
        assert (await tab.page.evaluate("harness.sending()"))["video"]["label"] == "fake_device_2"
        await until(lambda: peggy_sees.size == CAMERA, f"Python decodes the camera again ({peggy_sees.size})")
        assert await new_frames(peggy_sees) > 10
        assert not (await tab.page.evaluate("harness.state()"))["hasScreenShare"]

        await tab.page.evaluate("harness.hangup()")
        assert await incoming.ended() == "NORMAL_HANGUP"
        assert tab.errors == []
    finally:
        await peggy.close()


@pytest.mark.asyncio
async def test_switching_the_microphone_mid_call_keeps_audio_flowing_and_keeps_mute(stack: Stack, tab: Tab) -> None:
    await connect_browser(tab, stack, "quinn")
    rupert = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "rupert"))
    try:
        rupert_hears = AudioSink()
        await tab.page.evaluate("harness.call('rupert')")
        incoming = await asyncio.wait_for(rupert.incoming_calls.get(), 10)
        await incoming.accept(audio_source=ToneSource(1000), audio_sink=rupert_hears)
        await browser_event(tab, "established")
        await asyncio.sleep(1.5)  # jitter buffers fill
        loud = await python_hears(rupert_hears)
        assert rms(loud) > 300 and abs(dominant_frequency(loud) - MICROPHONE_TONE_HZ) < 20

        microphones = (await tab.page.evaluate("harness.devices()"))["audio"]
        other = next(m for m in microphones if m["label"] == "Fake Audio Input 2")
        assert (await tab.page.evaluate("harness.sending()"))["audio"]["label"] != other["label"]

        # muted, then switched: the new microphone is on the wire, and still muted
        await tab.page.evaluate("harness.mute(true)")
        switched = await tab.page.evaluate("id => harness.setAudioInputDevice(id)", other["deviceId"])
        assert switched == {"ok": True}
        sending = (await tab.page.evaluate("harness.sending()"))["audio"]
        assert (sending["label"], sending["deviceId"], sending["enabled"]) == (other["label"], other["deviceId"], False)
        await asyncio.sleep(0.5)  # what was already in flight
        muted = await python_hears(rupert_hears)
        assert rms(muted) < rms(loud) / 50, (rms(muted), rms(loud))

        # unmuted: the far end hears the tone again, from the new microphone
        await tab.page.evaluate("harness.mute(false)")
        await asyncio.sleep(0.5)
        heard = await python_hears(rupert_hears)
        assert rms(heard) > 300 and abs(dominant_frequency(heard) - MICROPHONE_TONE_HZ) < 20, rms(heard)

        # a device that does not exist is refused, and the current microphone stays
        missing = await tab.page.evaluate("harness.setAudioInputDevice('no-such-microphone')")
        assert missing["error"] == "DEVICE_NOT_FOUND", missing
        assert (await tab.page.evaluate("harness.sending()"))["audio"]["deviceId"] == other["deviceId"]
        assert rms(await python_hears(rupert_hears, 0.5)) > 300

        # an audio call has no video m-line: screen share is refused, and says why
        refused = await tab.page.evaluate("harness.screenShare(true)")
        assert refused["error"] == "FEATURE_UNAVAILABLE" and "needs a video call" in refused["text"], refused

        await tab.page.evaluate("harness.hangup()")
        assert await incoming.ended() == "NORMAL_HANGUP"
        assert tab.errors == []
    finally:
        await rupert.close()
