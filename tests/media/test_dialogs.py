"""Dialogs on a real node: a parent application call bridged with a child, through the signed internal API (the
control plane's side); checked by what each party hears and by what the node reports. Also the maxDuration the node
enforces on dialed calls and conferences."""

from __future__ import annotations

import asyncio
import time

import pytest

from chalicelib.contract import control as contract
from chalicelib.media_nodes.control import MediaNodeError
from switchboard_media.dialogs import RINGBACK_HZ
from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.media.conftest import ACCOUNT, token
from tests.media.test_conferences import conference, control, hears, until

pytestmark = pytest.mark.asyncio
ANN, BEN, CAT = 600.0, 1000.0, 1400.0


async def dialog(url: str, dialog_id: str, action: str, **body: object) -> None:
    models: dict[str, type[contract._Body]] = {
        "open": contract.DialogOpenRequest,
        "abandon": contract.DialogAbandonRequest,
        "play": contract.DialogPlayRequest,
    }
    request = models.get(action, contract.DialogRequest).model_validate({"accountId": ACCOUNT, **body})
    await asyncio.to_thread(control(url).dialog, dialog_id, action, request)


async def calling(url: str, name: str, tone: float, *, answer: bool):
    client = await RtcClient.connect(url, token(name))
    sink = AudioSink()
    call = await client.call_application("app", audio_source=ToneSource(tone), audio_sink=sink)
    if answer:
        await asyncio.to_thread(control(url).action, call.id, "answer")
        await call.established()
        await call.media_connected()
    return client, call, sink


async def test_the_child_rings_the_waiting_parent_hears_ringback_then_both_talk_and_the_child_hangs_up(node, records):
    _, url = node
    ann, ann_call, ann_sink = await calling(url, "ann", ANN, answer=False)
    ben = await RtcClient.connect(url, token("ben"))
    try:
        await dialog(
            url, "d-1", "open", parentCallId=ann_call.id, childCallId="child-1", propagateRinging=True, ringback=True
        )
        await asyncio.to_thread(control(url).dial, "child-1", ACCOUNT, "ben", "app", connect_timeout=20)
        incoming = await asyncio.wait_for(ben.incoming_calls.get(), 5)
        await ann_call.ringing()  # the child's ringing, propagated
        await ann_call.media_connected()  # pre-answered: early media
        await until(lambda: records.of_dialog("d-1") == [("pre_established",)])
        await asyncio.sleep(0.6)
        assert hears(ann_sink, RINGBACK_HZ, 0.5) > 1e5  # the ringback tone, while ben's phone rings
        assert ("pre_establish", ann_call.id, ()) in records.transitions

        ben_sink = AudioSink()
        await incoming.accept(audio_source=ToneSource(BEN), audio_sink=ben_sink)
        await ann_call.established()  # the inbound parent is answered with the child
        await incoming.media_connected()
        await until(lambda: ("established",) in records.of_dialog("d-1"))
        await asyncio.sleep(1.5)
        assert hears(ann_sink, BEN) > 20 * max(hears(ann_sink, RINGBACK_HZ), 1.0)  # ringback gone, ben heard
        assert hears(ben_sink, ANN) > 1e5
        assert hears(ben_sink, BEN) < hears(ben_sink, ANN) / 20  # never oneself

        await incoming.hangup()
        assert await ann_call.ended() == "NORMAL_HANGUP"  # childCallHangup: the parent goes with the child
        await until(lambda: ("ended", "NORMAL_HANGUP", "CHILD_ENDPOINT", False) in records.of_dialog("d-1"))
        assert ("establish", ann_call.id, ()) in records.transitions
    finally:
        await ann.close()
        await ben.close()


async def test_an_unanswered_child_fails_the_dialog_and_without_child_hangup_the_parent_stays(node, records):
    _, url = node
    ann, ann_call, ann_sink = await calling(url, "ann", ANN, answer=True)
    ben = await RtcClient.connect(url, token("ben"))
    try:
        await dialog(url, "d-2", "open", parentCallId=ann_call.id, childCallId="child-2", childHangup=False)
        await asyncio.to_thread(control(url).dial, "child-2", ACCOUNT, "ben", "app", connect_timeout=1)
        await until(lambda: records.of_dialog("d-2") == [("ended", "NO_ANSWER", "CHILD_ENDPOINT", True)])
        await asyncio.sleep(0.5)
        assert not ann_call.is_ended  # back with its application

        # the parent can be in a new dialog: with another answered call, bridged at once
        cat, cat_call, cat_sink = await calling(url, "cat", CAT, answer=True)
        try:
            await dialog(url, "d-3", "open", parentCallId=ann_call.id, childCallId=cat_call.id, connectNow=True)
            assert records.of_dialog("d-3") == [("established",)]
            await asyncio.sleep(1.5)
            assert hears(ann_sink, CAT) > 1e5 and hears(cat_sink, ANN) > 1e5

            # a dialog never takes a third party: not in a conference, not in another dialog
            with pytest.raises(MediaNodeError) as error:
                await conference(url, "conf-d", "join", callId=cat_call.id)
            assert error.value.status == 409
            with pytest.raises(MediaNodeError) as error:
                await dialog(url, "d-4", "open", parentCallId=ann_call.id, childCallId="child-4")
            assert error.value.status == 409

            await dialog(url, "d-3", "hangup")
            assert await ann_call.ended() == "NORMAL_HANGUP"
            assert await cat_call.ended() == "NORMAL_HANGUP"
            await until(lambda: ("ended", "NORMAL_HANGUP", "API", False) in records.of_dialog("d-3"))
            assert len(records.of_dialog("d-3")) == 2  # reported once
        finally:
            await cat.close()
    finally:
        await ann.close()
        await ben.close()


async def test_the_parent_hanging_up_cancels_the_ringing_child_and_bad_requests_are_refused(node, records):
    _, url = node
    ann, ann_call, _ = await calling(url, "ann", ANN, answer=True)
    ben = await RtcClient.connect(url, token("ben"))
    try:
        for body, status in (
            ({"parentCallId": "no-such-call", "childCallId": "c"}, 404),
            ({"parentCallId": ann_call.id, "childCallId": "c", "accountId": "someone-else"}, 404),
            ({"parentCallId": ann_call.id, "childCallId": ann_call.id}, 409),
        ):
            with pytest.raises(MediaNodeError) as error:
                await dialog(url, "d-bad", "open", **body)
            assert error.value.status == status, body
        with pytest.raises(MediaNodeError) as error:  # nothing to play to before the child answered
            await dialog(url, "d-5", "open", parentCallId=ann_call.id, childCallId="child-5")
            await dialog(url, "d-5", "play", play={"content": {"type": "TEXT", "text": "hi", "language": "en"}})
        assert error.value.status == 409

        await asyncio.to_thread(control(url).dial, "child-5", ACCOUNT, "ben", "app", connect_timeout=20)
        incoming = await asyncio.wait_for(ben.incoming_calls.get(), 5)
        await ann_call.hangup()
        assert await incoming.ended() == "CANCELLED"
        await until(lambda: ("ended", "NORMAL_HANGUP", "PARENT_ENDPOINT", True) in records.of_dialog("d-5"))
        with pytest.raises(MediaNodeError) as error:  # it is gone
            await dialog(url, "d-5", "hangup")
        assert error.value.status == 404
    finally:
        await ann.close()
        await ben.close()


async def test_max_duration_ends_a_dialed_call_and_a_conference_when_it_is_up(node, records):
    _, url = node
    ann, ann_call, _ = await calling(url, "ann", ANN, answer=True)
    ben = await RtcClient.connect(url, token("ben"))
    try:
        client = control(url)
        await asyncio.to_thread(client.dial, "short-1", ACCOUNT, "ben", "app", max_duration=1)
        incoming = await asyncio.wait_for(ben.incoming_calls.get(), 5)
        await asyncio.sleep(1.5)  # a second of ringing does not count: the duration runs from the answer
        assert not incoming.is_ended
        await incoming.accept(audio_source=ToneSource(BEN), audio_sink=AudioSink())
        assert await incoming.ended(timeout=5) == "NORMAL_HANGUP"

        ends_at = time.time() + 1.0
        await conference(url, "conf-short", "join", callId=ann_call.id, endsAt=ends_at)
        assert await ann_call.ended(timeout=5) == "NORMAL_HANGUP"
        assert time.time() >= ends_at
        left = records.of_conference("conf-short", "left")
        assert [args[0] for args in left] == [ann_call.id]
    finally:
        await ann.close()
        await ben.close()
