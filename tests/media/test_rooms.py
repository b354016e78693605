"""Rooms through a real media node: everyone hears the others' tones and never their own; joins, leaves, talking."""

from __future__ import annotations

import asyncio

import pytest

from chalicelib.contract import signalling as sig
from switchboard_rtc import AudioSink, RtcClient, RtcError, ToneSource
from tests.media.conftest import token
from tests.support.audio import band_energy

pytestmark = pytest.mark.asyncio
TONES = {"ann": 600.0, "ben": 1000.0, "cat": 1500.0}


async def test_three_participants_hear_the_other_two_and_not_themselves(node):
    _, url = node
    clients = {name: await RtcClient.connect(url, token(name, name=name.title())) for name in TONES}
    sinks = {name: AudioSink() for name in TONES}
    try:
        rooms = {}
        for name, frequency in TONES.items():
            rooms[name] = await clients[name].join_room(
                "standup", audio_source=ToneSource(frequency), audio_sink=sinks[name]
            )
        assert set(rooms["cat"].participants) == {"ann", "ben"}  # who was there when cat joined
        await asyncio.gather(*(room.media_connected() for room in rooms.values()))
        await asyncio.sleep(2.0)
        for name, sink in sinks.items():
            heard = sink.samples[-48000:]
            assert len(heard) >= 24000, name
            others = [f for n, f in TONES.items() if n != name]
            own = band_energy(heard, TONES[name])
            for frequency in others:
                assert band_energy(heard, frequency) > 20 * max(own, 1.0), (name, frequency)
        joined = [event for event in _drain(rooms["ann"].events) if isinstance(event, sig.ParticipantJoined)]
        assert [event.participant.identity for event in joined] == ["ben", "cat"]
        assert rooms["ann"].talking >= {"ben", "cat"}  # their tones count as talking

        await rooms["cat"].leave()
        left = await asyncio.wait_for(_next_of(rooms["ann"].events, sig.ParticipantLeft), 5)
        assert left.participant.identity == "cat"
        await asyncio.sleep(1.0)
        heard = sinks["ann"].samples[-24000:]
        assert band_energy(heard, TONES["cat"]) < band_energy(heard, TONES["ben"]) / 20  # cat is gone from the mix
    finally:
        for client in clients.values():
            await client.close()


async def test_the_room_has_a_participant_limit(node):
    media_node, url = node
    media_node.settings.room_limit = 2
    clients = [await RtcClient.connect(url, token(f"p{n}")) for n in range(3)]
    try:
        await clients[0].join_room("small")
        await clients[1].join_room("small")
        with pytest.raises(RtcError) as full:
            await clients[2].join_room("small")
        assert full.value.code == "ROOM_FULL"
        await clients[2].join_room("other-room")  # other rooms are unaffected
    finally:
        for client in clients:
            await client.close()


async def test_a_participant_that_drops_leaves_the_room_after_the_grace_period(node):
    media_node, url = node
    media_node.settings.reconnect_grace_seconds = 0.5
    ann = await RtcClient.connect(url, token("ann"))
    ben = await RtcClient.connect(url, token("ben"))
    try:
        room = await ann.join_room("drop")
        await ben.join_room("drop")
        await asyncio.wait_for(_next_of(room.events, sig.ParticipantJoined), 5)
        await ben.close()
        left = await asyncio.wait_for(_next_of(room.events, sig.ParticipantLeft), 5)
        assert left.participant.identity == "ben" and "ben" not in room.participants
    finally:
        await ann.close()


def _drain(queue: asyncio.Queue) -> list:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def _next_of(queue: asyncio.Queue, kind: type):
    while True:
        item = await queue.get()
        if isinstance(item, kind):
            return item


async def test_after_a_network_cut_a_participant_rejoins_its_seat_and_is_heard_again(node):
    from urllib.parse import urlsplit

    from tests.support.tcpproxy import CuttableProxy

    _, url = node
    parts = urlsplit(url)
    proxy = await CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 80).start()
    ann = await RtcClient.connect(url, token("ann"))
    ben = await RtcClient.connect(f"http://127.0.0.1:{proxy.port}", token("ben"))  # ben's network can be cut
    ann_hears = AudioSink()
    try:
        ann_room = await ann.join_room("flaky", audio_sink=ann_hears)
        ben_room = await ben.join_room("flaky", audio_source=ToneSource(1000))
        seat = ben_room.id
        await asyncio.gather(ann_room.media_connected(), ben_room.media_connected())
        await asyncio.sleep(1.0)
        assert band_energy(ann_hears.samples[-24000:], 1000) > 1e5

        old_media = ben_room.pc
        assert old_media is not None
        proxy.cut()  # signalling gone ...
        await old_media.close()  # ... and media gone
        await asyncio.sleep(0.3)

        await ben_room.media_connected(timeout=15)  # reconnected by itself, with new media
        assert ben_room.pc is not old_media
        assert ben_room.id == seat and not ben_room.is_ended
        for _ in range(40):  # ann hears ben again within seconds
            await asyncio.sleep(0.25)
            if band_energy(ann_hears.samples[-12000:], 1000) > 1e5:
                break
        assert band_energy(ann_hears.samples[-12000:], 1000) > 1e5
        assert all(not isinstance(e, sig.ParticipantLeft) for e in _drain(ann_room.events))  # the seat was kept
    finally:
        await ann.close()
        await ben.close()
        await proxy.stop()


async def test_the_others_hear_when_a_participant_mutes_and_unmutes(node):
    _, url = node
    ann = await RtcClient.connect(url, token("ann", name="Ann"))
    ben = await RtcClient.connect(url, token("ben", name="Ben"))
    try:
        ann_room = await ann.join_room("huddle", audio_source=ToneSource(600))
        ben_room = await ben.join_room("huddle", audio_source=ToneSource(1000))
        await asyncio.gather(ann_room.media_connected(), ben_room.media_connected())
        ann_room.mute()
        changed = await asyncio.wait_for(_next_of(ben_room.events, sig.ParticipantMediaChanged), 5)
        assert (changed.participant.identity, changed.participant.muted) == ("ann", True)
        assert ben_room.participants["ann"].muted
        ann_room.mute(False)
        changed = await asyncio.wait_for(_next_of(ben_room.events, sig.ParticipantMediaChanged), 5)
        assert changed.participant.muted is False
        late = await RtcClient.connect(url, token("cat", name="Cat"))
        try:
            ben_room.mute()
            await asyncio.wait_for(_next_of(ann_room.events, sig.ParticipantMediaChanged), 5)
            cat_room = await late.join_room("huddle")
            assert cat_room.participants["ben"].muted and not cat_room.participants["ann"].muted  # state on joining
        finally:
            await late.close()
    finally:
        await ann.close()
        await ben.close()
