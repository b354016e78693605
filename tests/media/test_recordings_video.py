"""AUDIO_AND_VIDEO recording on a real node: a 1:1 video call between two SDK clients (a 1 kHz tone and one colour
on one side, 2 kHz and another colour on the other) recorded through the signed internal API; the `.mp4` files are
read back through the download service (from moto's S3) and decoded with PyAV: both streams are there, the audio
holds the tones (frequency measured), the pictures the colours, and the lengths match the time recorded. A
recording cut short by the node's shutdown or crash is still a playable file, marked interrupted."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

import av
import numpy as np
import pytest

from chalicelib.recordings import download
from switchboard_rtc import AudioSink, ColorSource, ToneSource, VideoSink
from tests.media.conftest import ACCOUNT
from tests.media.test_recordings import Recorded, recording, settled_files, timed
from tests.support.audio import band_energy, dominant_frequency

pytestmark = pytest.mark.asyncio
ALICE = (81, 90, 240)  # Y, U, V: red
BOB = (41, 240, 110)  # blue
COLOUR_TOLERANCE = 12


async def video_call(pair):
    alice, bob = pair
    call = await alice.call_webrtc(
        "bob", video=True, audio_source=ToneSource(1000), video_source=ColorSource(ALICE), video_sink=VideoSink()
    )
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept(
        audio_source=ToneSource(2000), audio_sink=AudioSink(), video_source=ColorSource(BOB), video_sink=VideoSink()
    )
    await asyncio.gather(call.media_connected(), incoming.media_connected())
    await asyncio.sleep(1.0)
    return call, incoming


@dataclass
class Decoded:
    samples: np.ndarray  # mono 48 kHz
    pictures: list[np.ndarray]  # each (3, height, width): Y, U, V at full resolution
    seconds: float  # the container's duration
    codecs: tuple[str, str]


def downloaded(item) -> bytes:
    """The file's bytes as the download API serves them (and as stored: key, encryption, size)."""
    assert item.file_format == "MP4" and item.name == f"{item.file_id}.mp4"
    assert item.object_key == f"recordings/{ACCOUNT}/{item.file_id}.mp4"
    served = download.download(ACCOUNT, item.file_id, None)
    assert served.status == 200 and len(served.body) == item.size
    assert served.headers["Content-Disposition"] == f'attachment; filename="{item.file_id}.mp4"'
    return served.body


def decoded(data: bytes) -> Decoded:
    with av.open(io.BytesIO(data), mode="r") as container:
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
                pictures.append(frame.reformat(format="yuv444p").to_ndarray())
    return Decoded(np.concatenate(chunks), pictures, seconds, codecs)


def colour_at(picture: np.ndarray, x: float) -> tuple[float, float, float]:
    """Mean Y, U, V of a 16x16 block at the middle height, `x` of the way across."""
    _, height, width = picture.shape
    top, left = height // 2 - 8, int(width * x) - 8
    block = picture[:, top : top + 16, left : left + 16].reshape(3, -1)
    y, u, v = block.mean(axis=1)
    return float(y), float(u), float(v)


def close_to(colour: tuple[float, float, float], expected: tuple[int, int, int]) -> bool:
    return all(abs(got - want) <= COLOUR_TOLERANCE for got, want in zip(colour, expected, strict=True))


def middle(samples: np.ndarray) -> list[int]:
    half = len(samples) // 2
    return samples[half - 24000 : half + 24000].tolist()


def steady(pictures: list[np.ndarray]) -> list[np.ndarray]:
    """The pictures of the recording's second half (the first may still be black: cameras start at a keyframe)."""
    return pictures[len(pictures) // 2 :]


def lasts(decoded_file: Decoded, recorded: Recorded) -> None:
    assert recorded.holds(decoded_file.seconds), (decoded_file.seconds, recorded)
    assert recorded.holds(len(decoded_file.samples) / 48000), (len(decoded_file.samples), recorded)


async def test_a_video_call_recorded_per_participant_and_composed_holds_each_tone_and_picture(embedded_aws, pair, node):
    media_node, url = node
    call, incoming = await video_call(pair)
    bridge = media_node.calls.bridge_of(call.id)
    assert (bridge.a.leg_id, bridge.b.leg_id) == (call.id, incoming.id)

    recorded = await timed(url, "CALL", call.id, 3.0, recordingType="AUDIO_AND_VIDEO", composition=False)
    files = await settled_files("CALL", call.id, 2)
    by_party = {item.call_id: item for item in files}
    assert set(by_party) == {call.id, incoming.id} and all(item.status == "READY" for item in files)
    for leg, tone, colour in ((call.id, 1000, ALICE), (incoming.id, 2000, BOB)):
        item = by_party[leg]
        mp4 = decoded(downloaded(item))
        assert mp4.codecs == ("h264", "aac")
        assert abs(dominant_frequency(middle(mp4.samples)) - tone) < 20, leg
        assert len(mp4.pictures) > 10
        seen = [colour_at(picture, 0.5) for picture in steady(mp4.pictures)]
        assert all(close_to(got, colour) for got in seen), (leg, seen)
        lasts(mp4, recorded)
        assert recorded.holds(item.duration, 1.0)  # whole seconds on the record

    recorded = await timed(url, "CALL", call.id, 3.0, recordingType="AUDIO_AND_VIDEO", composition=True)
    files = await settled_files("CALL", call.id, 3)
    (composed,) = [item for item in files if item.composed]
    mp4 = decoded(downloaded(composed))
    assert mp4.codecs == ("h264", "aac")
    both = middle(mp4.samples)
    assert band_energy(both, 1000) > 1e5 and band_energy(both, 2000) > 1e5
    assert band_energy(both, 1000) > 20 * band_energy(both, 1500)
    _, height, width = mp4.pictures[-1].shape
    assert (width, height) == (960, 360)  # two slots side by side: the caller left, the callee right
    for picture in steady(mp4.pictures):
        assert close_to(colour_at(picture, 0.25), ALICE) and close_to(colour_at(picture, 0.75), BOB)
    lasts(mp4, recorded)
    await call.hangup()


async def test_a_camera_turned_off_keeps_its_last_picture_and_the_file_its_length(embedded_aws, pair, node):
    _, url = node
    call, _ = await video_call(pair)
    loop = asyncio.get_running_loop()
    asked = loop.time()
    await recording(url, "start", "CALL", call.id, recordingType="AUDIO_AND_VIDEO", composition=True)
    started = loop.time()
    await asyncio.sleep(1.5)
    call.camera_video(None)
    await asyncio.sleep(2.0)
    stopping = loop.time()
    await recording(url, "stop", "CALL", call.id)
    recorded = Recorded(stopping - started, loop.time() - asked)
    (item,) = await settled_files("CALL", call.id, 1)
    mp4 = decoded(downloaded(item))
    lasts(mp4, recorded)
    assert close_to(colour_at(mp4.pictures[-1], 0.25), ALICE)  # frozen, not black
    assert close_to(colour_at(mp4.pictures[-1], 0.75), BOB)
    await call.hangup()


async def test_a_video_recording_cut_short_by_the_node_shutting_down_is_a_whole_file_marked_interrupted(
    embedded_aws, pair, node
):
    media_node, url = node
    call, _ = await video_call(pair)
    await recording(url, "start", "CALL", call.id, recordingType="AUDIO_AND_VIDEO")
    await asyncio.sleep(2.0)
    await media_node.recordings.shutdown()
    (item,) = await settled_files("CALL", call.id, 1)
    assert item.status == "READY" and item.interrupted
    assert item.reason == "the media node shut down before the recording ended"
    mp4 = decoded(downloaded(item))
    assert mp4.codecs == ("h264", "aac") and 1.5 < mp4.seconds < 3.5
    assert band_energy(middle(mp4.samples), 1000) > 1e5 and band_energy(middle(mp4.samples), 2000) > 1e5
    assert close_to(colour_at(mp4.pictures[-1], 0.25), ALICE)


async def test_what_a_crashed_node_left_of_a_video_recording_is_remuxed_and_stored_by_its_successor(
    embedded_aws, pair, node
):
    from switchboard_media.recording import Recordings

    media_node, url = node
    call, _ = await video_call(pair)
    await recording(url, "start", "CALL", call.id, recordingType="AUDIO_AND_VIDEO")
    await asyncio.sleep(3.0)
    crashed = media_node.recordings
    (active,) = list(crashed._active.values())
    crashed._active.clear()  # the process dies: no trailer is written, nothing is stored
    active.recorder.closed = True
    successor = Recordings(
        media_node.calls, media_node.applications, media_node.conferences, media_node.recording_store, crashed.directory
    )
    try:
        assert await successor.recover() == 1
        (item,) = await settled_files("CALL", call.id, 1)
        assert item.status == "READY" and item.interrupted
        assert item.reason == "the media node stopped before the recording ended"
        mp4 = decoded(downloaded(item))
        assert mp4.codecs == ("h264", "aac")
        assert 0.8 < mp4.seconds < 3.5  # as far as whole fragments (one a second) reached the disk
        assert abs(len(mp4.samples) / 48000 - mp4.seconds) < 0.5
        assert item.duration == round(mp4.seconds) or abs(item.duration - mp4.seconds) <= 1
        assert close_to(colour_at(mp4.pictures[-1], 0.25), ALICE)
        assert not list(crashed.directory.glob("*/manifest.json"))
    finally:
        for track in active.recorder._tracks.values():  # the dead process's writer thread, left running here
            track.close()


async def test_an_application_call_with_video_records_its_party_s_camera_and_voice(embedded_aws, pair, node):
    from tests.media.test_application_calls import control

    _, url = node
    alice, _ = pair
    call = await alice.call_application("ivr", audio_source=ToneSource(1000), video=True)
    await asyncio.to_thread(control(url).action, call.id, "answer")
    await call.media_connected()
    call.camera_video(ColorSource(ALICE))
    await asyncio.sleep(1.0)
    recorded = await timed(url, "CALL", call.id, 3.0, recordingType="AUDIO_AND_VIDEO")
    (item,) = await settled_files("CALL", call.id, 1)
    mp4 = decoded(downloaded(item))
    assert mp4.codecs == ("h264", "aac")
    assert abs(dominant_frequency(middle(mp4.samples)) - 1000) < 20
    assert mp4.pictures[-1].shape[1:] == (360, 480)  # one slot: the party's
    assert all(close_to(colour_at(picture, 0.5), ALICE) for picture in steady(mp4.pictures))
    lasts(mp4, recorded)
    await call.hangup()
