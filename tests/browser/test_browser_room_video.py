"""Room video between headless Chromium (the JS SDK, fake camera) and a Python-SDK participant sending a solid red
picture, through the media node of the real local stack: the browser decodes Python's camera on a video slot (frames
advance, checked with `requestVideoFrameCallback`, and the picture is red), Python decodes the browser's camera, and
a camera turned off on either side reaches the other as `participant-camera-video-removed` / no more frames."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from switchboard_rtc import ColorSource, RtcClient
from tests.browser.chromium import unavailable
from tests.browser.conftest import Tab
from tests.browser.harness import until, webrtc_token
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]

RED = (82, 90, 240)  # Y, U, V: (255, 0, 0) in RGB
CAMERA = (640, 480)  # Chromium's fake camera

# The page's own SDK module (the page imported it from the API), a client of its own for `identity`, and a room
# joined with the fake camera. Per participant whose camera the room shows, it keeps how many frames its <video>
# rendered (requestVideoFrameCallback), their size and the colour in the middle.
JOIN_WITH_VIDEO = """
async ([token, nodeUrl, room]) => {
  const sdk = await import(`${new URLSearchParams(location.search).get("api")}/sdk/v1/switchboard-rtc.js`);
  const rtc = sdk.createSwitchboardRtc(token, { nodeUrl });
  await rtc.connect();
  const call = rtc.joinRoom(room, { video: true });
  const state = (window.roomVideo = { rtc, call, events: [], videos: {} });
  for (const name of ["room-joined", "participant-joined", "participant-media-changed", "error", "room-left",
                      "participant-camera-video-added", "participant-camera-video-removed"]) {
    call.on(name, (detail) => state.events.push({ name, identity: detail.participant && detail.participant.identity }));
  }
  call.on("participant-camera-video-added", ({ participant, stream }) => {
    const video = Object.assign(document.createElement("video"), { autoplay: true, muted: true, playsInline: true });
    video.srcObject = stream;
    document.body.appendChild(video);
    const seen = (state.videos[participant.identity] = { frames: 0, width: 0, height: 0, rgb: null, video });
    const canvas = document.createElement("canvas");
    const rendered = () => {
      seen.frames += 1;
      seen.width = video.videoWidth;
      seen.height = video.videoHeight;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0);
      seen.rgb = [...context.getImageData(video.videoWidth >> 1, video.videoHeight >> 1, 1, 1).data.slice(0, 3)];
      video.requestVideoFrameCallback(rendered);
    };
    video.requestVideoFrameCallback(rendered);
  });
}
"""


async def shown(tab: Tab) -> dict[str, Any]:
    videos: dict[str, Any] = await tab.page.evaluate(
        "Object.fromEntries(Object.entries(roomVideo.videos).map(([k, v]) => "
        "[k, { frames: v.frames, width: v.width, height: v.height, rgb: v.rgb }]))"
    )
    return videos


async def events(tab: Tab) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await tab.page.evaluate("roomVideo.events")
    return found


@pytest.mark.asyncio
async def test_a_browser_and_python_see_each_others_camera_in_a_room(stack: Stack, tab: Tab) -> None:
    await tab.page.evaluate(JOIN_WITH_VIDEO, [webrtc_token(stack, "vera"), stack.ready["mediaUrl"], "video-room"])
    await until_async(tab, "room-joined", None)
    tom = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "tom"))
    try:
        room = await tom.join_room("video-room", video=True, video_source=ColorSource(RED))
        assert room.participants["vera"].camera  # the browser joined with its camera on
        await room.media_connected()

        # the browser renders Python's red picture, frame after frame; it never gets its own camera
        for _ in range(200):
            videos = await shown(tab)
            if videos.get("tom", {}).get("frames", 0) > 10:
                break
            await asyncio.sleep(0.1)
        assert set(videos) == {"tom"}, (videos, await events(tab), tab.errors)
        before = videos["tom"]["frames"]
        await asyncio.sleep(1.0)
        videos = await shown(tab)
        assert videos["tom"]["frames"] - before >= 5  # 15 frames a second are sent
        assert (videos["tom"]["width"], videos["tom"]["height"]) == (320, 240)
        red, green, blue = videos["tom"]["rgb"]
        assert red > 200 and green < 60 and blue < 60, videos["tom"]["rgb"]

        # Python decodes the browser's fake camera
        await until(lambda: (room.video_of("vera") or _NO_FRAMES).frames > 10, "python decodes vera's camera")
        vera = room.video_of("vera")
        assert vera is not None and vera.size == CAMERA
        assert "tom" not in room.videos

        # Python's camera off: the browser hears it, and its frames stop
        room.camera_video(None)
        await until_async(tab, "participant-camera-video-removed", "tom")
        for _ in range(10):  # what was in flight (and in the jitter buffer) is rendered
            stopped = (await shown(tab))["tom"]["frames"]
            await asyncio.sleep(0.5)
            if (await shown(tab))["tom"]["frames"] == stopped:
                break
        await asyncio.sleep(1.0)
        assert (await shown(tab))["tom"]["frames"] == stopped

        # the browser's camera off: Python stops decoding it and learns the camera is off
        mid = next(mid for mid, identity in room.video_slots.items() if identity == "vera")
        await tab.page.evaluate("roomVideo.call.cameraVideo(false)")
        await until(lambda: room.video_of("vera") is None, "vera's slot is freed")
        assert not room.participants["vera"].camera
        for _ in range(10):  # the slot itself goes quiet: the node stopped forwarding vera's camera
            frames = room.slot_frames[mid]
            await asyncio.sleep(0.5)
            if room.slot_frames[mid] == frames:
                break
        await asyncio.sleep(1.0)
        assert room.slot_frames[mid] == frames
        assert tab.errors == []
    finally:
        await tom.close()
        await tab.page.evaluate("roomVideo.rtc.disconnect()")


class _NoFrames:
    frames = 0


_NO_FRAMES = _NoFrames()


async def until_async(tab: Tab, name: str, identity: str | None, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(e["name"] == name and e["identity"] == identity for e in await events(tab)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {name} for {identity} in the browser: {await events(tab)} {tab.errors}")
        await asyncio.sleep(0.1)
