"""Conferences on a real node: application calls from real SDK clients are mixed together through the signed
internal API (the control plane's side); checked by what each party hears and by what the node reports."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from chalicelib.contract import control as contract
from chalicelib.media_nodes.control import MediaNodeClient, MediaNodeError
from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.media.conftest import ACCOUNT, CONTROL_KEY, token
from tests.support.audio import band_energy, rms

pytestmark = pytest.mark.asyncio
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (make test)")
TONES = {"ann": 600.0, "ben": 1000.0, "cat": 1400.0, "dan": 1800.0}


def control(url: str) -> MediaNodeClient:
    return MediaNodeClient(url, key=CONTROL_KEY)


async def conference(url: str, conference_id: str, action: str, **body: object) -> None:
    models: dict[str, type[contract._Body]] = {
        "join": contract.ConferenceJoinRequest,
        "update": contract.ConferenceUpdateRequest,
        "play": contract.ConferencePlayRequest,
    }
    request = models.get(action, contract.ConferenceRequest).model_validate({"accountId": ACCOUNT, **body})
    await asyncio.to_thread(control(url).conference, conference_id, action, request)


async def answered_calls(url: str, names, *, tones: bool = True) -> tuple[dict, dict, dict]:
    """Each name calls the application (with its tone, or silence) and is answered; returns clients, calls and
    sinks."""
    clients = {name: await RtcClient.connect(url, token(name)) for name in names}
    sinks = {name: AudioSink() for name in names}
    calls = {}
    for name in names:
        call = await clients[name].call_application(
            "conf", audio_source=ToneSource(TONES[name] if tones else 0), audio_sink=sinks[name]
        )
        await asyncio.to_thread(control(url).action, call.id, "answer")
        await call.established()
        calls[name] = call
    await asyncio.gather(*(call.media_connected() for call in calls.values()))
    return clients, calls, sinks


def hears(sink: AudioSink, frequency: float, seconds: float = 0.6) -> float:
    return band_energy(sink.samples[-int(48000 * seconds) :], frequency)


async def until(condition, timeout: float = 6.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_four_calls_in_a_conference_hear_each_other_not_themselves_mute_and_removal(node, records):
    _, url = node
    clients, calls, sinks = await answered_calls(url, TONES)
    try:
        for name in TONES:
            await conference(url, "conf-1", "join", callId=calls[name].id)
        assert [args for args in records.of_conference("conf-1", "joined")] == [(calls[n].id,) for n in TONES]
        await asyncio.sleep(1.5)
        for name, sink in sinks.items():
            own = hears(sink, TONES[name])
            for other, frequency in TONES.items():
                if other != name:
                    assert hears(sink, frequency) > 20 * max(own, 1.0), (name, other)

        await conference(url, "conf-1", "update", callId=calls["ann"].id, muted=True)
        assert records.of_conference("conf-1", "media_changed") == [(calls["ann"].id, True, False)]
        await asyncio.sleep(1.0)
        assert hears(sinks["ben"], TONES["ann"]) < hears(sinks["ben"], TONES["cat"]) / 20  # ann is muted
        assert hears(sinks["ann"], TONES["ben"]) > 1e5  # but still hears

        await conference(url, "conf-1", "update", callId=calls["ben"].id, deaf=True)
        await asyncio.sleep(1.0)
        assert hears(sinks["ben"], TONES["cat"]) < 1e4  # ben hears nothing now
        assert hears(sinks["cat"], TONES["ben"]) > 1e5  # and is still heard

        await conference(url, "conf-1", "leave", callId=calls["dan"].id)
        assert records.of_conference("conf-1", "left") == [(calls["dan"].id, "Removed from the conference", False)]
        await asyncio.sleep(1.0)
        assert hears(sinks["cat"], TONES["dan"]) < hears(sinks["cat"], TONES["ben"]) / 20  # dan is out of the mix
        assert hears(sinks["dan"], TONES["cat"]) < 1e4  # and back with its application, hearing nobody
        assert not calls["dan"].is_ended

        with pytest.raises(MediaNodeError) as error:  # not in it any more
            await conference(url, "conf-1", "leave", callId=calls["dan"].id)
        assert error.value.status == 404

        await conference(url, "conf-1", "hangup")
        for name in ("ann", "ben", "cat"):
            assert await calls[name].ended() == "NORMAL_HANGUP"
        left = records.of_conference("conf-1", "left")
        assert {args[0] for args in left} == {call.id for call in calls.values()}
        assert not calls["dan"].is_ended  # it had left before the hangup
    finally:
        for client in clients.values():
            await client.close()


async def test_a_call_hanging_up_leaves_and_a_dialed_call_joins_when_answered(node, records):
    _, url = node
    clients, calls, sinks = await answered_calls(url, ["ann"])
    ben = await RtcClient.connect(url, token("ben"))
    try:
        await conference(url, "conf-2", "join", callId=calls["ann"].id)
        await asyncio.to_thread(
            control(url).dial, "dialed-1", ACCOUNT, "ben", "conf", connect_timeout=10, conference_id="conf-2"
        )
        incoming = await asyncio.wait_for(ben.incoming_calls.get(), 5)
        ben_sink = AudioSink()
        await incoming.accept(audio_source=ToneSource(TONES["ben"]), audio_sink=ben_sink)
        await incoming.media_connected()
        await until(lambda: ("dialed-1",) in records.of_conference("conf-2", "joined"))
        await asyncio.sleep(1.0)
        assert hears(ben_sink, TONES["ann"]) > 1e5
        assert hears(sinks["ann"], TONES["ben"]) > 1e5

        await incoming.hangup()
        await until(lambda: any(args[0] == "dialed-1" for args in records.of_conference("conf-2", "left")))
        assert records.of_conference("conf-2", "left") == [("dialed-1", "The call hung up", False)]

        await asyncio.to_thread(  # a dialed call that is never answered never joins
            control(url).dial, "dialed-2", ACCOUNT, "ben", "conf", connect_timeout=1, conference_id="conf-2"
        )
        await until(lambda: any(args[0] == "dialed-2" for args in records.of_conference("conf-2", "left")))
        assert ("dialed-2", "The call was not answered", True) in records.of_conference("conf-2", "left")
        assert not calls["ann"].is_ended
    finally:
        await ben.close()
        for client in clients.values():
            await client.close()


@needs_espeak
async def test_playing_into_the_conference_reaches_everyone_and_joining_stops_a_calls_own_playback(node, records):
    _, url = node
    clients, calls, sinks = await answered_calls(url, ["ann", "ben"], tones=False)
    try:
        text = {"type": "TEXT", "text": "Welcome to the conference, everyone is here now.", "language": "en"}
        await asyncio.to_thread(
            control(url).play, calls["ann"].id, contract.PlayRequest.model_validate({"content": text})
        )
        await asyncio.sleep(0.3)
        await conference(url, "conf-3", "join", callId=calls["ann"].id)  # ann's own playback stops
        await until(lambda: any(e[0] == calls["ann"].id and e[1] == "PLAY_FINISHED" for e in records.events))
        finished = next(p for call, kind, p in records.events if call == calls["ann"].id and kind == "PLAY_FINISHED")
        assert finished["playedCompletely"] is False

        await conference(url, "conf-3", "join", callId=calls["ben"].id)
        for sink in sinks.values():
            sink.clear()
        await conference(url, "conf-3", "play", play={"content": text, "report": "SAY_FINISHED"})
        await until(lambda: records.of_conference("conf-3", "action_event"), timeout=15)
        ((event_type, properties),) = records.of_conference("conf-3", "action_event")
        assert event_type == "SAY_FINISHED" and properties["playedCompletely"] is True
        for name, sink in sinks.items():  # both heard the speech (they send silence)
            heard = sink.samples[: 48000 * 2]
            assert len(heard) > 48000, name
            assert rms(heard) > 300, name
    finally:
        for client in clients.values():
            await client.close()


async def test_conference_requests_for_another_account_or_an_unknown_conference_are_refused(node):
    _, url = node
    clients, calls, _ = await answered_calls(url, ["ann"])
    try:
        await conference(url, "conf-4", "join", callId=calls["ann"].id)
        request = contract.ConferenceRequest(accountId="someone-else", callId=calls["ann"].id)
        for conference_id in ("conf-4", "no-such-conference"):
            with pytest.raises(MediaNodeError) as error:
                await asyncio.to_thread(control(url).conference, conference_id, "leave", request)
            assert error.value.status == 404
        join = contract.ConferenceJoinRequest(accountId="someone-else", callId=calls["ann"].id)
        with pytest.raises(MediaNodeError) as error:
            await asyncio.to_thread(control(url).conference, "conf-5", "join", join)
        assert error.value.status == 404
    finally:
        for client in clients.values():
            await client.close()
