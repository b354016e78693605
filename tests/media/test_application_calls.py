"""Application calls on a real node: the control plane (here the test, through the signed internal API) dials an
identity, or an SDK calls an application that answers it; the leg's audio reaches the node's graph, where the
application's actions will listen and play."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from chalicelib.contract import control as control_contract
from chalicelib.media_nodes.control import MediaNodeClient, MediaNodeError
from switchboard_rtc import AudioSink, ToneSource
from tests.media.conftest import ACCOUNT, CONTROL_KEY
from tests.support.audio import dominant_frequency

pytestmark = pytest.mark.asyncio


def control(url: str) -> MediaNodeClient:
    return MediaNodeClient(url, key=CONTROL_KEY)


async def dial(url: str, call_id: str, identity: str, timeout: int = 30) -> None:
    await asyncio.to_thread(
        control(url).dial, call_id, ACCOUNT, identity, "ivr", from_identity="+4930123", connect_timeout=timeout
    )


async def heard_by_the_node(media_node, call_id: str, seconds: float) -> np.ndarray:
    """What the leg says, as the application's actions hear it (a listener on its graph)."""
    for _ in range(100):
        graph = media_node.applications.graph_of(call_id)
        if graph is not None and call_id in graph.members:
            break
        await asyncio.sleep(0.05)
    said: list[np.ndarray] = []
    graph.members[call_id].listeners.append(said.append)
    await asyncio.sleep(seconds)
    return np.concatenate(said) if said else np.zeros(0, dtype=np.int16)


async def test_the_application_dials_an_identity_that_answers_and_its_audio_reaches_the_node(node, pair, records):
    media_node, url = node
    _, bob = pair
    await dial(url, "api-call-1", "bob")
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    assert (incoming.id, incoming.peer, incoming.calls_configuration_id) == ("api-call-1", "+4930123", "ivr")
    await incoming.accept(audio_source=ToneSource(1000))
    await incoming.established()
    await incoming.media_connected()
    said = await heard_by_the_node(media_node, "api-call-1", 1.0)
    assert len(said) > 0.6 * 48000
    assert abs(dominant_frequency(said[-24000:].tolist()) - 1000) < 20
    await asyncio.to_thread(control(url).hangup, "api-call-1")
    assert await incoming.ended() == "NORMAL_HANGUP"
    assert records.of("api-call-1") == ["ringing", "establish", "hangup:NORMAL_HANGUP"]


async def test_dialing_an_offline_identity_is_not_found_and_an_unanswered_call_ends_with_no_answer(node, pair, records):
    _, url = node
    _, bob = pair
    with pytest.raises(MediaNodeError) as error:
        await dial(url, "api-call-2", "nobody")
    assert error.value.status == 404
    await dial(url, "api-call-3", "bob", timeout=1)
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    assert await incoming.ended() == "NO_ANSWER"
    assert records.of("api-call-3") == ["ringing", "hangup:NO_ANSWER"]


async def test_an_sdk_calls_the_application_which_rings_answers_and_hears_it(node, pair, records):
    media_node, url = node
    alice, _ = pair
    call = await alice.call_application("ivr", audio_source=ToneSource(2000), custom_data={"order": "42"})
    assert records.of(call.id) == ["start:ivr"]
    await asyncio.to_thread(control(url).action, call.id, "send-ringing")
    await call.ringing()
    await asyncio.to_thread(control(url).action, call.id, "answer")
    await call.established()
    await call.media_connected()
    said = await heard_by_the_node(media_node, call.id, 1.0)
    assert abs(dominant_frequency(said[-24000:].tolist()) - 2000) < 20
    with pytest.raises(MediaNodeError) as error:  # answered already
        await asyncio.to_thread(control(url).action, call.id, "answer")
    assert error.value.status == 409
    await call.hangup()
    assert await call.ended() == "NORMAL_HANGUP"
    assert records.of(call.id) == ["start:ivr", "ringing", "establish", "hangup:NORMAL_HANGUP"]


async def test_early_media_before_the_answer_and_the_caller_cancelling_or_the_application_rejecting(
    node, pair, records
):
    media_node, url = node
    alice, _ = pair
    call = await alice.call_application("ivr", audio_source=ToneSource(1500))
    await asyncio.to_thread(control(url).action, call.id, "pre-answer")
    await call.media_connected()  # media flows before the answer
    said = await heard_by_the_node(media_node, call.id, 0.8)
    assert abs(dominant_frequency(said[-19200:].tolist()) - 1500) < 20
    await call.hangup()  # the caller gives up before the application answered
    assert await call.ended() == "CANCELLED"
    assert records.of(call.id)[-1] == "hangup:CANCELLED"

    rejected = await alice.call_application("ivr")
    await asyncio.to_thread(control(url).hangup, rejected.id, "BUSY")
    assert await rejected.ended() == "BUSY"
    assert records.of(rejected.id) == ["start:ivr", "hangup:BUSY"]


async def next_event(records, call_id: str, event_type: str, timeout: float = 10) -> dict:
    for _ in range(int(timeout / 0.05)):
        for index, (call, kind, properties) in enumerate(records.events):
            if call == call_id and kind == event_type:
                del records.events[index]
                return properties
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {event_type} for {call_id}: {records.events}")


async def test_the_application_says_captures_digits_and_a_digit_stops_what_plays(node, pair, records):
    _, url = node
    alice, _ = pair
    alice_hears = AudioSink()
    call = await alice.call_application("ivr", audio_source=ToneSource(0), audio_sink=alice_hears)
    await asyncio.to_thread(control(url).action, call.id, "answer")
    await call.media_connected()
    nodes = control(url)

    say = control_contract.PlayRequest(
        content=control_contract.PlayContent(type="TEXT", text="Press one, two, then hash.", language="en"),
        report="SAY_FINISHED",
        customData={"step": "menu"},
    )
    await asyncio.to_thread(nodes.play, call.id, say)
    said = await next_event(records, call.id, "SAY_FINISHED")
    assert said["playedCompletely"] is True and 1000 < said["duration"] < 5000
    assert said["customData"] == {"step": "menu"}
    heard = np.asarray(alice_hears.samples[-48000 * 2 :], dtype=np.float64)
    assert np.sqrt(np.mean(heard**2)) > 300  # alice heard the speech

    capture = control_contract.CaptureDtmfRequest(maxLength=3, timeoutMs=5000, terminator="#", digitTimeoutMs=3000)
    await asyncio.to_thread(nodes.capture_dtmf, call.id, capture)
    call.send_dtmf("12#")
    assert await next_event(records, call.id, "DTMF_CAPTURED") == {"dtmf": "12", "timeout": False}

    long_play = control_contract.PlayRequest(
        content=control_contract.PlayContent(
            type="TEXT", text="This message repeats until you press a key.", language="en"
        ),
        loopCount=10,
        stopOnTerminator="",
    )
    await asyncio.to_thread(nodes.play, call.id, long_play)
    await asyncio.sleep(1.0)
    call.send_dtmf("5")
    stopped = await next_event(records, call.id, "PLAY_FINISHED")
    assert stopped["playedCompletely"] is False and stopped["capturedDtmf"] == "5"
    assert 900 < stopped["duration"] < 3000

    await asyncio.to_thread(
        nodes.capture_dtmf, call.id, control_contract.CaptureDtmfRequest(maxLength=2, timeoutMs=400)
    )
    assert await next_event(records, call.id, "DTMF_CAPTURED") == {"dtmf": "", "timeout": True}

    with pytest.raises(MediaNodeError) as error:  # a language no voice speaks
        bad = control_contract.PlayContent(type="TEXT", text="hello", language="xx")
        await asyncio.to_thread(nodes.play, call.id, control_contract.PlayRequest(content=bad))
    assert error.value.status == 400
    await call.hangup()
