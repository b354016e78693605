"""The WebRTC recording rules on real 1:1 calls: two Python SDK clients (a 1 kHz tone on the caller's side, 2 kHz on
the callee's) on a real node, the account's setting written through the accounts service (moto), each party's token
carrying its `capabilities.recording` and each SDK its `recordingType`. Once the call is established the node
records it or not as the table says; what it records is checked by content (tones by frequency), format and
events, and "nothing recorded" by there being no file item at all. A bad `recordingType` is refused clearly."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass

import aiohttp
import pytest

from chalicelib.accounts import service as accounts
from chalicelib.accounts.schemas import RecordingSettingsRequest
from chalicelib.contract import signalling as sig
from chalicelib.contract.tokens import TokenClaims, sign
from chalicelib.db.models import OutboxEvent
from chalicelib.recordings import repository
from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.media.conftest import ACCOUNT, KEY
from tests.media.test_recordings import Recorded, middle, settled_files, stored_audio
from tests.support.audio import band_energy, dominant_frequency

pytestmark = pytest.mark.asyncio
CALLER_TONE, CALLEE_TONE = 1000.0, 2000.0
TALK_SECONDS = 2.0


def rtc_token(identity: str, recording: str | None) -> str:
    now = int(time.time())
    claims = TokenClaims.model_validate(
        {"acc": ACCOUNT, "identity": identity, "rec": recording, "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex}
    )
    return sign(claims, KEY)


def account_setting(enabled: bool, media_type: str, auto_compose: bool) -> None:
    request = RecordingSettingsRequest.model_validate(
        {"webrtcRecording": {"enabled": enabled, "mediaType": media_type}, "autoCompose": auto_compose}
    )
    accounts.replace_recording_settings(ACCOUNT, request)


def recording_events(call_id: str) -> list[str]:
    types = [json.loads(item.body)["type"] for item in OutboxEvent.query(f"{ACCOUNT}#{call_id}")]
    return [kind for kind in types if kind.startswith("CALL_RECORDING_")]


@dataclass(frozen=True)
class Case:
    account: tuple[bool, str, bool]  # enabled, mediaType, autoCompose
    caller: tuple[str | None, str | None]  # token's capabilities.recording, SDK recordingType
    callee: tuple[str | None, str | None]
    expected: str | None  # the file format recorded, None: nothing


CASES = {
    "token ALWAYS x account AUDIO: each party's file": Case(
        (True, "AUDIO", False), ("ALWAYS", None), (None, None), "WAV"
    ),
    "token ON_DEMAND + caller AUDIO: composed": Case(
        (True, "AUDIO", True), ("ON_DEMAND", "AUDIO"), (None, None), "WAV"
    ),
    "token ON_DEMAND + UNDEFINED: nothing": Case(
        (True, "AUDIO_AND_VIDEO", False), ("ON_DEMAND", "UNDEFINED"), ("ON_DEMAND", None), None
    ),
    "callee's token ALWAYS alone: both": Case((True, "AUDIO", False), ("DISABLED", None), ("ALWAYS", None), "WAV"),
    "account disabled: nothing": Case((False, "AUDIO_AND_VIDEO", False), ("ALWAYS", "AUDIO"), ("ALWAYS", None), None),
    "account AUDIO caps AUDIO_AND_VIDEO": Case(
        (True, "AUDIO", False), ("ON_DEMAND", None), ("ON_DEMAND", "AUDIO_AND_VIDEO"), "WAV"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
async def test_an_established_call_is_recorded_as_the_rules_say(embedded_aws, node, case):
    media_node, url = node
    account_setting(*case.account)
    alice = await RtcClient.connect(url, rtc_token("alice", case.caller[0]))
    bob = await RtcClient.connect(url, rtc_token("bob", case.callee[0]))
    try:
        loop = asyncio.get_running_loop()
        call = await alice.call_webrtc("bob", audio_source=ToneSource(CALLER_TONE), recording_type=case.caller[1])
        incoming = await asyncio.wait_for(bob.incoming_calls.get(), 10)
        answered = loop.time()
        await incoming.accept(
            audio_source=ToneSource(CALLEE_TONE), audio_sink=AudioSink(), recording_type=case.callee[1]
        )
        await asyncio.wait_for(asyncio.gather(call.media_connected(), incoming.media_connected()), 30)
        await asyncio.sleep(0.5)
        await media_node.recording_rules.drain()  # decided (and, when due, recording)
        decided = loop.time()
        await asyncio.sleep(TALK_SECONDS)
        hanging_up = loop.time()
        await call.hangup()
        assert await incoming.ended() == "NORMAL_HANGUP"
        recorded = Recorded(hanging_up - decided, loop.time() - answered)
    finally:
        await alice.close()
        await bob.close()

    if case.expected is None:
        await media_node.recordings.drain()
        for leg in (call.id, incoming.id):
            assert await asyncio.to_thread(repository.of_scope, ACCOUNT, "CALL", leg) == []
            assert recording_events(leg) == []
        return

    composed = case.account[2]
    files = await settled_files("CALL", call.id, 1 if composed else 2)
    assert all(item.status == "READY" and item.file_format == case.expected for item in files)
    assert all(item.recording_type == "AUDIO" and item.composition == composed for item in files)
    if composed:
        (item,) = files
        mix = middle(stored_audio(item))
        assert band_energy(mix, CALLER_TONE) > 1e5 and band_energy(mix, CALLEE_TONE) > 1e5
        assert band_energy(mix, CALLER_TONE) > 20 * band_energy(mix, 1500)
    else:
        by_party = {item.call_id: item for item in files}
        assert set(by_party) == {call.id, incoming.id}  # every participant, whoever triggered it
        for leg, tone in ((call.id, CALLER_TONE), (incoming.id, CALLEE_TONE)):
            samples = stored_audio(by_party[leg])
            assert abs(dominant_frequency(middle(samples)) - tone) < 20, leg
            assert recorded.holds(len(samples) / 48000), (len(samples) / 48000, recorded)
    for _ in range(100):
        if "CALL_RECORDING_READY" in recording_events(call.id):
            break
        await asyncio.sleep(0.2)
    assert recording_events(call.id) == ["CALL_RECORDING_STARTED", "CALL_RECORDING_STOPPED", "CALL_RECORDING_READY"]
    assert media_node.recordings.active("CALL", call.id) is None  # it ended with the call


@pytest.mark.parametrize("bad", ["VIDEO", "audio", 7, None])
async def test_a_bad_recording_type_is_refused_clearly(embedded_aws, node, bad):
    _, url = node
    async with aiohttp.ClientSession() as http, http.ws_connect(url.replace("http", "ws", 1) + "/ws") as ws:
        await ws.send_str(json.dumps({"type": "hello", "token": rtc_token("carol", "ALWAYS")}))
        assert (await ws.receive_json(timeout=10))["type"] == "registered"
        frame = {"type": "call", "requestId": "r1", "to": "dave", "recordingOptions": {"recordingType": bad}}
        await ws.send_str(json.dumps(frame))
        reply = await ws.receive_json(timeout=10)
    assert reply["type"] == "error" and reply["code"] == "BAD_MESSAGE" and reply["requestId"] == "r1"
    assert reply["text"].startswith("recordingOptions.recordingType: Input should be 'UNDEFINED', 'AUDIO'")
    with pytest.raises(ValueError, match="recordingType"):
        sig.RecordingOptions.model_validate({"recordingType": bad})  # the SDK refuses it before sending
