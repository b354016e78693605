"""An application transfer on the local stack, driven by Infobip's official Python client: a Python-SDK caller
calls an IVR application, which answers and hands the call to an agents application. Each application has its own
webhook receiver, so where every event arrives is what is checked: the first offer times out on the real media
node's timer, the second is rejected, the third accepted; from then on the agents application plays a tone the
caller hears (measured by frequency), and the call's later events reach the agents application only."""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path
from typing import Any

import pytest
from infobip_api_client import CallsApi
from infobip_api_client.exceptions import ApiException, NotFoundException
from infobip_api_client.models import (
    CallsActionStatus,
    CallsAnswerRequest,
    CallsApplicationTransferRequest,
    CallsFilePlayContent,
    CallsHangupRequest,
    CallsPlayContentType,
    CallsPlayRequest,
    CallState,
)

from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.integration.test_calls_client import (  # noqa: F401 (fixtures)
    calls,
    off_loop,
    stack,
    subscribe,
    token,
)
from tests.support.audio import band_energy, dominant_frequency, rms
from tests.support.audio_files import tone
from tests.support.receiver import Receiver

EVENTS = [
    "CALL_RECEIVED",
    "CALL_ESTABLISHED",
    "CALL_FINISHED",
    "PLAY_FINISHED",
    "APPLICATION_TRANSFER_REQUESTED",
    "APPLICATION_TRANSFER_FINISHED",
    "APPLICATION_TRANSFER_FAILED",
]
AGENTS_TONE = 880.0


def tone_wav(frequency: float, seconds: float = 8.0, sample_rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(tone(seconds, sample_rate, frequency).tobytes())
    return buffer.getvalue()


def types(receiver: Receiver, call_id: str) -> list[str]:
    return [r.event["type"] for r in receiver.accepted() if r.event.get("callId") == call_id]


async def arrives(receiver: Receiver, call_id: str, kind: str, count: int = 1) -> dict[str, Any]:
    """The `count`-th event of `kind` for the call at this receiver (waits up to 60 s: the machine is shared)."""
    for _ in range(600):
        found = [r.event for r in receiver.accepted() if r.event.get("callId") == call_id and r.event["type"] == kind]
        if len(found) >= count:
            return found[count - 1]
        await asyncio.sleep(0.1)
    raise AssertionError((call_id, kind, types(receiver, call_id)))


async def hears(sink: AudioSink, frequency: float, timeout: float = 20.0) -> float:
    """The dominant frequency of the last 0.4 s the caller heard, once it is `frequency` (or the last one seen)."""
    found = 0.0
    for _ in range(int(timeout / 0.25)):
        recent = sink.samples[-19200:]
        if len(recent) == 19200 and band_energy(recent, frequency) > 1e5:
            found = dominant_frequency(recent)
            if abs(found - frequency) < 15:
                return found
        await asyncio.sleep(0.25)
    return found


async def offer(calls: CallsApi, call_id: str, timeout: int) -> None:  # noqa: F811
    request = CallsApplicationTransferRequest(destinationCallsConfigurationId="xfer-agents", timeout=timeout)
    pending = await off_loop(calls.application_transfer, call_id, request)
    assert pending.status == CallsActionStatus.PENDING


@pytest.mark.asyncio
async def test_an_ivr_hands_its_caller_to_an_agents_application_that_plays_to_it(
    stack,  # noqa: F811
    calls: CallsApi,  # noqa: F811
    tmp_path: Path,
):
    ivr, agents = Receiver().start(), Receiver().start()
    caller = None
    try:
        await subscribe(stack, calls, ivr, "xfer-ivr", EVENTS)
        await subscribe(stack, calls, agents, "xfer-agents", EVENTS)
        wav = tmp_path / "agents.wav"
        wav.write_bytes(tone_wav(AGENTS_TONE))
        uploaded = await off_loop(calls.upload_calls_audio_file, file=str(wav))
        assert uploaded.id is not None

        caller = await RtcClient.connect(None, token(stack, "gina"))
        sink = AudioSink()
        call = await caller.call_application("xfer-ivr", audio_source=ToneSource(0), audio_sink=sink)
        await arrives(ivr, call.id, "CALL_RECEIVED")
        await off_loop(calls.answer_call, call.id, CallsAnswerRequest())
        await call.established()
        await call.media_connected()

        # 1. nobody answers: the media node's timer fails the offer for the IVR
        await offer(calls, call.id, timeout=2)
        first = await arrives(agents, call.id, "APPLICATION_TRANSFER_REQUESTED")
        assert first["callsConfigurationId"] == "xfer-agents"
        assert first["properties"]["sourceCallsConfigurationId"] == "xfer-ivr"
        assert first["properties"]["call"]["id"] == call.id
        timed_out = await arrives(ivr, call.id, "APPLICATION_TRANSFER_FAILED")
        assert timed_out["properties"]["transferId"] == first["properties"]["transferId"]
        with pytest.raises(ApiException) as late:  # too late to accept
            await off_loop(calls.application_transfer_accept, call.id, first["properties"]["transferId"])
        assert late.value.status == 409

        # 2. the agents application refuses
        await offer(calls, call.id, timeout=30)
        second = await arrives(agents, call.id, "APPLICATION_TRANSFER_REQUESTED", 2)
        rejected = await off_loop(calls.application_transfer_reject, call.id, second["properties"]["transferId"])
        assert rejected.status == CallsActionStatus.COMPLETED
        refused = await arrives(ivr, call.id, "APPLICATION_TRANSFER_FAILED", 2)
        assert refused["properties"]["transferId"] == second["properties"]["transferId"]
        assert (await off_loop(calls.get_call, call.id)).calls_configuration_id == "xfer-ivr"

        # 3. it takes the call
        await offer(calls, call.id, timeout=30)
        third = await arrives(agents, call.id, "APPLICATION_TRANSFER_REQUESTED", 3)
        transfer_id = third["properties"]["transferId"]
        with pytest.raises(NotFoundException):
            await off_loop(calls.application_transfer_accept, call.id, "no-such-transfer")
        accepted = await off_loop(calls.application_transfer_accept, call.id, transfer_id)
        assert accepted.status == CallsActionStatus.COMPLETED
        finished = await arrives(ivr, call.id, "APPLICATION_TRANSFER_FINISHED")
        assert finished["properties"]["call"]["callsConfigurationId"] == "xfer-agents"
        assert (await off_loop(calls.get_call, call.id)).calls_configuration_id == "xfer-agents"

        # the new owner plays its tone; the caller hears it
        assert rms(sink.samples[-19200:]) < 300  # nothing played to the caller so far: what follows is the agents'
        content = CallsFilePlayContent(fileId=uploaded.id, type=CallsPlayContentType.FILE)
        played = await off_loop(calls.call_play_file, call.id, CallsPlayRequest(content=content))
        assert played.status == CallsActionStatus.PENDING
        heard = await hears(sink, AGENTS_TONE)
        assert abs(heard - AGENTS_TONE) < 15, heard

        hung_up = await off_loop(calls.hangup_call, call.id, CallsHangupRequest())
        assert hung_up.state == CallState.FINISHED
        assert await call.ended() == "NORMAL_HANGUP"
        await arrives(agents, call.id, "PLAY_FINISHED")
        await arrives(agents, call.id, "CALL_FINISHED")

        # who got what: the agents application heard of the call only through the offers, until it owned it
        assert types(agents, call.id) == [
            "APPLICATION_TRANSFER_REQUESTED",
            "APPLICATION_TRANSFER_REQUESTED",
            "APPLICATION_TRANSFER_REQUESTED",
            "PLAY_FINISHED",
            "CALL_FINISHED",
        ]
        assert types(ivr, call.id) == [
            "CALL_RECEIVED",
            "CALL_ESTABLISHED",
            "APPLICATION_TRANSFER_FAILED",
            "APPLICATION_TRANSFER_FAILED",
            "APPLICATION_TRANSFER_FINISHED",
        ]
    finally:
        if caller is not None:
            await caller.close()
        ivr.stop()
        agents.stop()
