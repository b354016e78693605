"""Recording on a real node: 1:1 calls and conferences recorded through the signed internal API, the files stored
in (moto's) S3 with their records, and checked by their content: each participant's file holds that participant's
tone, a composed file holds every tone, and the lengths match the time recorded."""

from __future__ import annotations

import asyncio
import io
import wave
from dataclasses import dataclass

import boto3
import numpy as np
import pytest

from chalicelib.contract import control as contract
from chalicelib.core.settings import get_settings
from chalicelib.recordings import repository
from chalicelib.recordings.operations import RecordingClient
from switchboard_rtc import AudioSink, ToneSource
from tests.media.conftest import ACCOUNT, CONTROL_KEY
from tests.media.test_conferences import answered_calls, conference
from tests.support.audio import band_energy, dominant_frequency

pytestmark = pytest.mark.asyncio
TOLERANCE_SECONDS = 0.5


async def recording(url: str, action: str, scope: str, scope_id: str, **options: object) -> None:
    model = contract.StartRecordingRequest if action == "start" else contract.StopRecordingRequest
    body = model.model_validate({"accountId": ACCOUNT, "scope": scope, "scopeId": scope_id, **options})
    await asyncio.to_thread(RecordingClient(url, key=CONTROL_KEY).recording, action, body)


@dataclass(frozen=True)
class Recorded:
    """How long the node recorded, bounded by what the test saw: at least from the start's reply to the stop's
    request, at most from the start's request to the stop's reply (a busy machine answers slowly)."""

    shortest: float
    longest: float

    def holds(self, seconds: float, tolerance: float = TOLERANCE_SECONDS) -> bool:
        return self.shortest - tolerance <= seconds <= self.longest + tolerance


async def timed(url: str, scope: str, scope_id: str, seconds: float, **options: object) -> Recorded:
    """Record for about `seconds`."""
    loop = asyncio.get_running_loop()
    asked = loop.time()
    await recording(url, "start", scope, scope_id, **options)
    started = loop.time()
    await asyncio.sleep(seconds)
    stopping = loop.time()
    await recording(url, "stop", scope, scope_id)
    return Recorded(stopping - started, loop.time() - asked)


async def settled_files(scope: str, scope_id: str, count: int, timeout: float = 30.0) -> list:
    """The scope's files once `count` of them are READY (or FAILED)."""
    for _ in range(int(timeout / 0.2)):
        items = await asyncio.to_thread(repository.of_scope, ACCOUNT, scope, scope_id)
        done = [item for item in items if item.status in ("READY", "FAILED")]
        if len(done) >= count:
            return done
        await asyncio.sleep(0.2)
    raise AssertionError(f"{count} files of {scope} {scope_id} were not stored in time")


def stored_audio(item) -> np.ndarray:
    s3 = boto3.client("s3")
    head = s3.head_object(Bucket=get_settings().bucket, Key=item.object_key)
    assert head["ServerSideEncryption"] == "AES256"
    data = s3.get_object(Bucket=get_settings().bucket, Key=item.object_key)["Body"].read()
    assert item.object_key == f"recordings/{ACCOUNT}/{item.file_id}.wav" and len(data) == item.size
    with wave.open(io.BytesIO(data)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (48000, 1, 2)
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")


def middle(samples: np.ndarray) -> list[int]:
    """The steady middle of a recording (a second), away from its first and last frames."""
    half = len(samples) // 2
    return samples[half - 24000 : half + 24000].tolist()


async def test_a_call_recorded_per_participant_and_composed_holds_each_tone(embedded_aws, pair, node):
    media_node, url = node
    alice, bob = pair
    call = await alice.call_webrtc("bob", audio_source=ToneSource(1000))
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept(audio_source=ToneSource(2000), audio_sink=AudioSink())
    await asyncio.gather(call.media_connected(), incoming.media_connected())
    await asyncio.sleep(1.0)
    bridge = media_node.calls.bridge_of(call.id)
    assert bridge.mode == "pass-through"

    recorded = await timed(url, "CALL", call.id, 3.0, composition=False)
    await asyncio.sleep(0.2)
    assert bridge.mode == "pass-through"  # decoded only while recording
    files = await settled_files("CALL", call.id, 2)
    by_party = {item.call_id: item for item in files}
    assert set(by_party) == {call.id, incoming.id} and all(item.status == "READY" for item in files)
    for leg, tone in ((call.id, 1000), (incoming.id, 2000)):
        samples = stored_audio(by_party[leg])
        assert abs(dominant_frequency(middle(samples)) - tone) < 20, leg
        assert recorded.holds(len(samples) / 48000), (len(samples), recorded)
        assert recorded.holds(by_party[leg].duration, 1.0)  # whole seconds on the record

    recorded = await timed(url, "CALL", call.id, 2.0, composition=True)
    files = await settled_files("CALL", call.id, 3)
    composed = [item for item in files if item.composed]
    assert len(composed) == 1 and composed[0].call_id is None
    samples = stored_audio(composed[0])
    both = middle(samples)
    assert band_energy(both, 1000) > 1e5 and band_energy(both, 2000) > 1e5
    assert band_energy(both, 1000) > 20 * band_energy(both, 1500)
    assert recorded.holds(len(samples) / 48000), (len(samples), recorded)
    await call.hangup()


async def test_a_conference_recorded_per_participant_and_composed(embedded_aws, node, records):
    _, url = node
    tones = {"ann": 600.0, "ben": 1000.0, "cat": 1400.0}
    clients, calls, _ = await answered_calls(url, tones)
    try:
        for name in tones:
            await conference(url, "rec-conf", "join", callId=calls[name].id)
        await asyncio.sleep(1.0)
        recorded = await timed(url, "CONFERENCE", "rec-conf", 3.0, composition=False, customData={"k": "v"})
        files = await settled_files("CONFERENCE", "rec-conf", 3)
        by_party = {item.call_id: item for item in files}
        for name, tone in tones.items():
            item = by_party[calls[name].id]
            assert item.custom_data.as_dict() == {"k": "v"} and not item.composed
            samples = stored_audio(item)
            assert abs(dominant_frequency(middle(samples)) - tone) < 20, name
            assert recorded.holds(len(samples) / 48000), (len(samples), recorded)

        recorded = await timed(url, "CONFERENCE", "rec-conf", 2.0, composition=True)
        files = await settled_files("CONFERENCE", "rec-conf", 4)
        composed = next(item for item in files if item.composed)
        samples = stored_audio(composed)
        mix = middle(samples)
        for tone in tones.values():
            assert band_energy(mix, tone) > 1e5, tone
        assert recorded.holds(len(samples) / 48000), (len(samples), recorded)
    finally:
        for client in clients.values():
            await client.close()


async def established_call(pair):
    alice, bob = pair
    call = await alice.call_webrtc("bob", audio_source=ToneSource(1000))
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept(audio_source=ToneSource(2000), audio_sink=AudioSink())
    await asyncio.gather(call.media_connected(), incoming.media_connected())
    return call


async def test_a_recording_cut_short_by_the_node_shutting_down_is_stored_and_marked(embedded_aws, pair, node):
    media_node, url = node
    call = await established_call(pair)
    await recording(url, "start", "CALL", call.id)
    await asyncio.sleep(2.0)
    await media_node.recordings.shutdown()
    (item,) = await settled_files("CALL", call.id, 1)
    assert item.status == "READY" and item.interrupted
    assert item.reason == "the media node shut down before the recording ended"
    samples = stored_audio(item)
    assert 1.5 < len(samples) / 48000 < 3.0
    assert band_energy(middle(samples), 1000) > 1e5


async def test_what_a_crashed_node_left_is_stored_by_its_successor(embedded_aws, pair, node):
    from switchboard_media.recording import Recordings

    media_node, url = node
    call = await established_call(pair)
    await recording(url, "start", "CALL", call.id)
    await asyncio.sleep(2.5)
    crashed = media_node.recordings
    (active,) = list(crashed._active.values())
    crashed._active.clear()  # the process dies: nothing is closed, flushed or stored
    active.recorder.closed = True
    successor = Recordings(
        media_node.calls, media_node.applications, media_node.conferences, media_node.recording_store, crashed.directory
    )
    assert await successor.recover() == 1
    (item,) = await settled_files("CALL", call.id, 1)
    assert item.status == "READY" and item.interrupted
    assert item.reason == "the media node stopped before the recording ended"
    samples = stored_audio(item)
    assert 1.0 < len(samples) / 48000 < 3.0  # as far as it reached the disk (headers are updated every second)
    assert band_energy(middle(samples), 1000) > 1e5 and band_energy(middle(samples), 2000) > 1e5  # composed
    assert not list(crashed.directory.glob("*/manifest.json"))
