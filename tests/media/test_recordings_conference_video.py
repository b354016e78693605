"""AUDIO_AND_VIDEO recording of conferences and dialogs on a real node: application calls from SDK clients, each with
its own tone and camera colour, mixed in a conference (or bridged in a dialog) and recorded through the signed
internal API. The `.mp4` files are read back through the download service (from moto's S3) and decoded with PyAV:
composed, one file whose audio holds every tone and whose picture is a grid with every colour in its participant's
slot; per participant, one file each with its own tone and colour. A composed grid follows the conference: a
participant who joins later gets a slot from then on, one who leaves is removed (its slot turns black)."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

import av
import numpy as np
import pytest

from switchboard_rtc import AudioSink, ColorSource, RtcClient, ToneSource
from tests.media.conftest import token
from tests.media.test_conferences import conference, control
from tests.media.test_dialogs import dialog
from tests.media.test_recordings import Recorded, recording, settled_files, timed
from tests.media.test_recordings_video import close_to, downloaded
from tests.support.audio import band_energy, dominant_frequency

pytestmark = pytest.mark.asyncio
TONES = {"ann": 600.0, "ben": 1000.0, "cat": 1400.0}
COLOURS = {"ann": (81, 90, 240), "ben": (41, 240, 110), "cat": (145, 54, 34)}  # Y, U, V: red, blue, green
BLACK = (16, 128, 128)


@dataclass
class Decoded:
    samples: np.ndarray  # mono 48 kHz
    pictures: list[tuple[float, np.ndarray]]  # (seconds into the file, (3, height, width) Y, U, V)
    seconds: float
    codecs: tuple[str, str]

    @property
    def size(self) -> tuple[int, int]:
        _, height, width = self.pictures[-1][1].shape
        return width, height

    def between(self, start: float, end: float) -> list[np.ndarray]:
        return [picture for at, picture in self.pictures if start <= at <= end]

    def audio(self, start: float, end: float) -> list[int]:
        return self.samples[int(start * 48000) : int(end * 48000)].tolist()

    def lasts(self, recorded: Recorded) -> None:
        assert recorded.holds(self.seconds), (self.seconds, recorded)
        assert recorded.holds(len(self.samples) / 48000), (len(self.samples), recorded)


def decoded(item) -> Decoded:
    with av.open(io.BytesIO(downloaded(item)), mode="r") as container:
        (video,), (audio,) = container.streams.video, container.streams.audio
        codecs = (video.codec_context.name, audio.codec_context.name)
        assert container.duration is not None
        seconds = container.duration / 1_000_000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        chunks, pictures = [], []
        for frame in container.decode(video, audio):
            if isinstance(frame, av.AudioFrame):
                chunks += [part.to_ndarray().reshape(-1) for part in resampler.resample(frame)]
            elif isinstance(frame, av.VideoFrame):
                assert frame.time is not None
                pictures.append((frame.time, frame.reformat(format="yuv444p").to_ndarray()))
    return Decoded(np.concatenate(chunks), pictures, seconds, codecs)


def colour_at(picture: np.ndarray, x: float, y: float) -> tuple[float, float, float]:
    """Mean Y, U, V of a 16x16 block centred `x` of the way across and `y` of the way down."""
    _, height, width = picture.shape
    top, left = int(height * y) - 8, int(width * x) - 8
    block = picture[:, top : top + 16, left : left + 16].reshape(3, -1)
    first, second, third = block.mean(axis=1)
    return float(first), float(second), float(third)


def shows(pictures: list[np.ndarray], expected: dict[tuple[float, float], tuple[int, int, int]]) -> None:
    """Every picture has the expected colour at each place (fractions across and down)."""
    assert pictures
    for picture in pictures:
        seen = {place: colour_at(picture, *place) for place in expected}
        assert all(close_to(seen[place], colour) for place, colour in expected.items()), (seen, expected)


def middle(samples: np.ndarray) -> list[int]:
    half = len(samples) // 2
    return samples[half - 24000 : half + 24000].tolist()


async def video_calls(url: str, names: list[str]) -> tuple[dict, dict]:
    """Each name calls the application with its tone and camera colour and is answered; clients and calls."""
    clients = {name: await RtcClient.connect(url, token(name)) for name in names}
    calls = {}
    for name in names:
        call = await clients[name].call_application(
            "conf", audio_source=ToneSource(TONES[name]), audio_sink=AudioSink(), video=True
        )
        await asyncio.to_thread(control(url).action, call.id, "answer")
        await call.established()
        calls[name] = call
    await asyncio.gather(*(call.media_connected() for call in calls.values()))
    for name, call in calls.items():
        call.camera_video(ColorSource(COLOURS[name]))
    return clients, calls


async def test_a_three_party_video_conference_recorded_composed_and_per_participant(embedded_aws, node):
    _, url = node
    clients, calls = await video_calls(url, list(TONES))
    try:
        for name in TONES:
            await conference(url, "vconf", "join", callId=calls[name].id)
        await asyncio.sleep(1.0)

        recorded = await timed(url, "CONFERENCE", "vconf", 3.0, recordingType="AUDIO_AND_VIDEO", composition=True)
        (composed,) = await settled_files("CONFERENCE", "vconf", 1)
        assert composed.composed and composed.status == "READY"
        mp4 = decoded(composed)
        assert mp4.codecs == ("h264", "aac") and mp4.size == (960, 720)  # a 2x2 grid of 480x360 slots
        mix = middle(mp4.samples)
        for tone in TONES.values():
            assert band_energy(mix, tone) > 1e5, tone
        grid = {(0.25, 0.25): COLOURS["ann"], (0.75, 0.25): COLOURS["ben"], (0.25, 0.75): COLOURS["cat"]}
        shows(mp4.between(mp4.seconds / 2, mp4.seconds), {**grid, (0.75, 0.75): BLACK})  # in the order they joined
        mp4.lasts(recorded)

        recorded = await timed(url, "CONFERENCE", "vconf", 3.0, recordingType="AUDIO_AND_VIDEO", composition=False)
        files = await settled_files("CONFERENCE", "vconf", 4)
        by_party = {item.call_id: item for item in files if not item.composed}
        assert set(by_party) == {call.id for call in calls.values()}
        for name, call in calls.items():
            item = by_party[call.id]
            assert item.status == "READY" and item.file_format == "MP4"
            mp4 = decoded(item)
            assert mp4.codecs == ("h264", "aac") and mp4.size == (480, 360)
            assert abs(dominant_frequency(middle(mp4.samples)) - TONES[name]) < 20, name
            shows(mp4.between(mp4.seconds / 2, mp4.seconds), {(0.5, 0.5): COLOURS[name]})
            mp4.lasts(recorded)
            assert recorded.holds(item.duration, 1.0)  # whole seconds on the record
    finally:
        for client in clients.values():
            await client.close()


async def test_a_composed_grid_gives_a_later_joiner_a_slot_and_blanks_a_leaver_s(embedded_aws, node):
    _, url = node
    clients, calls = await video_calls(url, list(TONES))
    loop = asyncio.get_running_loop()
    try:
        for name in ("ann", "ben"):
            await conference(url, "vgrid", "join", callId=calls[name].id)
        await asyncio.sleep(1.0)
        await recording(url, "start", "CONFERENCE", "vgrid", recordingType="AUDIO_AND_VIDEO", composition=True)
        started = loop.time()
        await asyncio.sleep(2.0)
        joined = loop.time() - started
        await conference(url, "vgrid", "join", callId=calls["cat"].id)
        await asyncio.sleep(2.5)
        left = loop.time() - started
        await conference(url, "vgrid", "leave", callId=calls["ann"].id)
        await asyncio.sleep(2.5)
        await recording(url, "stop", "CONFERENCE", "vgrid")

        (item,) = await settled_files("CONFERENCE", "vgrid", 1)
        mp4 = decoded(item)
        assert mp4.size == (960, 360)  # sized for the two there at the start; the grid is laid out again within it
        shows(mp4.between(1.0, joined - 0.3), {(0.25, 0.5): COLOURS["ann"], (0.75, 0.5): COLOURS["ben"]})
        both = {(0.25, 0.25): COLOURS["ann"], (0.75, 0.25): COLOURS["ben"]}
        shows(mp4.between(joined + 1.5, left - 0.3), {**both, (0.25, 0.75): COLOURS["cat"]})
        after = {(0.25, 0.25): BLACK, (0.75, 0.25): COLOURS["ben"], (0.25, 0.75): COLOURS["cat"]}
        shows(mp4.between(left + 1.0, mp4.seconds), after)
        before, during, later = mp4.audio(0.5, joined - 0.3), mp4.audio(joined + 1.0, left), mp4.audio(left + 1.0, 99)
        assert band_energy(before, TONES["cat"]) < band_energy(before, TONES["ben"]) / 20
        assert band_energy(during, TONES["cat"]) > 1e5 and band_energy(during, TONES["ann"]) > 1e5
        assert band_energy(later, TONES["ann"]) < band_energy(later, TONES["ben"]) / 20
    finally:
        for client in clients.values():
            await client.close()


async def test_a_video_dialog_recorded_composed_shows_both_parties_side_by_side(embedded_aws, node):
    _, url = node
    clients, calls = await video_calls(url, ["ann", "ben"])
    try:
        parent, child = calls["ann"], calls["ben"]
        await dialog(url, "vdialog", "open", parentCallId=parent.id, childCallId=child.id, connectNow=True)
        await asyncio.sleep(1.0)
        recorded = await timed(url, "DIALOG", "vdialog", 3.0, recordingType="AUDIO_AND_VIDEO", composition=True)
        (item,) = await settled_files("DIALOG", "vdialog", 1)
        mp4 = decoded(item)
        assert mp4.codecs == ("h264", "aac") and mp4.size == (960, 360)
        mix = middle(mp4.samples)
        assert band_energy(mix, TONES["ann"]) > 1e5 and band_energy(mix, TONES["ben"]) > 1e5
        expected = {(0.25, 0.5): COLOURS["ann"], (0.75, 0.5): COLOURS["ben"]}  # the parent left, the child right
        shows(mp4.between(mp4.seconds / 2, mp4.seconds), expected)
        mp4.lasts(recorded)
        await dialog(url, "vdialog", "hangup")
    finally:
        for client in clients.values():
            await client.close()
