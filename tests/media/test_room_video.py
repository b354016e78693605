"""Room video through a real media node: each participant sends a solid colour and decodes the others' (checked by
colour, so a frame is known to be that participant's), never its own; a camera turned off stops reaching the others;
a participant that leaves frees its slot, which the next camera takes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from chalicelib.contract import signalling as sig
from switchboard_rtc import ColorSource, RoomCall, RtcClient, VideoSink
from tests.media.conftest import token

pytestmark = pytest.mark.asyncio
COLOURS = {"ann": (82, 90, 240), "ben": (145, 54, 34), "cat": (41, 240, 110)}  # red, green, blue (Y, U, V)


def looks_like(sink: VideoSink | None, colour: tuple[int, int, int]) -> bool:
    return (
        sink is not None
        and sink.mean_yuv is not None
        and all(abs(got - want) < 12 for got, want in zip(sink.mean_yuv, colour, strict=True))
    )


def sees(room: RoomCall, identity: str) -> Callable[[], bool]:
    """Whether `room` decodes `identity`'s colour now."""
    return lambda: looks_like(room.video_of(identity), COLOURS[identity])


async def until(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)


async def frames_in(sink: VideoSink, seconds: float) -> int:
    before = sink.frames
    await asyncio.sleep(seconds)
    return sink.frames - before


async def slot_frames_in(room: RoomCall, mid: str, seconds: float) -> int:
    """Frames decoded on one slot (whoever it shows) over the next `seconds`."""
    before = room.slot_frames.get(mid, 0)
    await asyncio.sleep(seconds)
    return room.slot_frames.get(mid, 0) - before


async def settled(room: RoomCall, mid: str, timeout: float = 5) -> None:
    """Until the slot decoded nothing for half a second (what was in flight has been decoded); fails if frames keep
    coming."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await slot_frames_in(room, mid, 0.5):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"slot {mid} still decodes frames after {timeout} s")


def slot_of(room: RoomCall, identity: str) -> str:
    return next(mid for mid, shown in room.video_slots.items() if shown == identity)


async def join_all(url: str, names: list[str], room: str) -> tuple[list[RtcClient], dict[str, RoomCall]]:
    clients, rooms = [], {}
    for name in names:
        client = await RtcClient.connect(url, token(name, name=name.title()))
        clients.append(client)
        rooms[name] = await client.join_room(room, video=True, video_source=ColorSource(COLOURS[name]))
    await asyncio.gather(*(room.media_connected() for room in rooms.values()))
    return clients, rooms


async def test_each_participant_sees_the_others_colours_and_not_its_own(node):
    _, url = node
    clients, rooms = await join_all(url, list(COLOURS), "video-standup")
    try:
        assert rooms["ann"].video_slot_count == 8  # min(room limit - 1, the node's cap)
        for name, room in rooms.items():
            for other in COLOURS.keys() - {name}:
                await until(sees(room, other), f"{name} sees {other}")
            assert room.video_of(name) is None and name not in room.videos  # never its own camera
            assert sorted(i for i in room.video_slots.values() if i) == sorted(COLOURS.keys() - {name})
        ben_sees_ann = rooms["ben"].video_of("ann")
        assert ben_sees_ann is not None and ben_sees_ann.size == (320, 240)
        assert await frames_in(ben_sees_ann, 1.0) >= 5  # frames keep coming (15 per second sent)
        joined = [e.participant for e in _drain(rooms["ann"].events) if isinstance(e, sig.ParticipantJoined)]
        assert all(participant.camera for participant in joined)  # the others know the cameras are on
    finally:
        for client in clients:
            await client.close()


async def test_a_camera_turned_off_stops_reaching_the_others_and_comes_back(node):
    _, url = node
    clients, rooms = await join_all(url, list(COLOURS), "video-camera")
    try:
        for viewer in ("ben", "cat"):
            await until(sees(rooms[viewer], "ann"), f"{viewer} sees ann")
        sinks = {viewer: rooms[viewer].videos["ann"] for viewer in ("ben", "cat")}
        ann_slots = {viewer: slot_of(rooms[viewer], "ann") for viewer in ("ben", "cat")}

        rooms["ann"].camera_video(None)
        changed = await asyncio.wait_for(_next_of(rooms["ben"].events, sig.ParticipantMediaChanged), 5)
        assert (changed.participant.identity, changed.participant.camera) == ("ann", False)
        await until(lambda: "ann" not in rooms["cat"].video_slots.values(), "cat's slot for ann is freed")
        for viewer, mid in ann_slots.items():
            await settled(rooms[viewer], mid)  # the slot itself goes quiet: the node stopped forwarding ann
            assert await slot_frames_in(rooms[viewer], mid, 1.5) == 0, viewer
            assert rooms[viewer].video_of("ann") is None and rooms[viewer].video_slots[mid] is None
        assert await frames_in(rooms["ben"].videos["cat"], 1.0) >= 5  # cat's camera is unaffected

        rooms["ann"].camera_video(ColorSource(COLOURS["ann"]))
        for viewer, sink in sinks.items():
            await until(sees(rooms[viewer], "ann"), f"{viewer} sees ann again")
            assert await frames_in(sink, 1.0) >= 5, viewer
            assert looks_like(sink, COLOURS["ann"])
    finally:
        for client in clients:
            await client.close()


async def test_a_leaving_participant_frees_its_slot_for_the_next_camera(node):
    media_node, url = node
    media_node.settings.room_video_slots = 1  # one slot: ben sees one camera at a time
    clients, rooms = await join_all(url, ["ann", "ben", "cat"], "video-one-slot")
    try:
        ben = rooms["ben"]
        assert ben.video_slot_count == 1
        await until(sees(ben, "ann"), "ben sees ann (the first camera)")
        (mid,) = ben.video_slots
        assert ben.video_of("cat") is None  # beyond the slots: not shown

        await rooms["ann"].leave()
        await until(lambda: ben.video_slots.get(mid) == "cat", "ann's slot goes to cat")
        await until(sees(ben, "cat"), "ben decodes cat on the same slot")
        assert await frames_in(ben.videos["cat"], 1.0) >= 5
        assert await frames_in(ben.videos["ann"], 1.0) == 0

        await rooms["cat"].leave()
        await until(lambda: ben.video_slots == {mid: None}, "the slot is free")
    finally:
        for client in clients:
            await client.close()


async def test_audio_only_participants_get_no_video_slots_and_still_hear_the_room(node):
    _, url = node
    ann = await RtcClient.connect(url, token("ann"))
    ben = await RtcClient.connect(url, token("ben"))
    try:
        ann_room = await ann.join_room("mixed", video=True, video_source=ColorSource(COLOURS["ann"]))
        ben_room = await ben.join_room("mixed")
        await asyncio.gather(ann_room.media_connected(), ben_room.media_connected())
        assert ben_room.video_slot_count == 0 and ben_room.videos == {}
        assert ben_room.participants["ann"].camera
        await until(lambda: "ben" in ann_room.participants, "ann hears that ben joined")
        assert not ann_room.participants["ben"].camera
        await until(lambda: bool(ann_room.video_slots), "ann is told what her video slots show")
        assert set(ann_room.video_slots.values()) == {None}  # ben sends no camera: nothing to show
    finally:
        await ann.close()
        await ben.close()


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
