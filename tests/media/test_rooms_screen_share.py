"""Screen share in a room through a real media node, between Python-SDK participants: a seat that joined with video
shares a screen beside its camera (a second source, on a send-only section of its media session); the others decode
both, each by its colour and size; screen shares take slots before cameras; stopping frees the slot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from chalicelib.contract import signalling as sig
from switchboard_rtc import ColorSource, RoomCall, RtcClient, VideoSink
from tests.media.conftest import token

pytestmark = pytest.mark.asyncio
CAMERAS = {"ann": (82, 90, 240), "ben": (145, 54, 34), "cat": (41, 240, 110)}  # red, green, blue (Y, U, V)
SCREEN = (235, 128, 128)  # white
SCREEN_SIZE = (640, 360)


def looks_like(sink: VideoSink | None, colour: tuple[int, int, int]) -> bool:
    return (
        sink is not None
        and sink.mean_yuv is not None
        and all(abs(got - want) < 12 for got, want in zip(sink.mean_yuv, colour, strict=True))
    )


def decodes(room: RoomCall, identity: str, colour: tuple[int, int, int], screen: bool = False) -> Callable[[], bool]:
    """Whether `room` decodes `identity`'s camera (or screen share) in `colour` now."""
    return lambda: looks_like((room.screen_of if screen else room.video_of)(identity), colour)


async def until(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)


async def frames_in(sink: VideoSink | None, seconds: float = 1.0) -> int:
    before = sink.frames if sink is not None else 0
    await asyncio.sleep(seconds)
    return (sink.frames if sink is not None else 0) - before


async def media_changed(room: RoomCall, identity: str, timeout: float = 5) -> sig.Participant:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        event = await asyncio.wait_for(room.events.get(), max(left, 0.01))
        if isinstance(event, sig.ParticipantMediaChanged) and event.participant.identity == identity:
            return event.participant


async def join_all(url: str, room: str) -> tuple[list[RtcClient], dict[str, RoomCall]]:
    clients, rooms = [], {}
    for name, colour in CAMERAS.items():
        client = await RtcClient.connect(url, token(name))
        clients.append(client)
        rooms[name] = await client.join_room(room, video=True, video_source=ColorSource(colour))
    await asyncio.gather(*(room.media_connected() for room in rooms.values()))
    return clients, rooms


async def test_a_shared_screen_reaches_the_others_beside_the_camera(node):
    _, url = node
    clients, rooms = await join_all(url, "screens")
    try:
        for viewer in ("ben", "cat"):
            await until(decodes(rooms[viewer], "ann", CAMERAS["ann"]), f"{viewer} sees ann")
            rooms[viewer].events = asyncio.Queue()  # from here on

        rooms["ann"].screen_share(ColorSource(SCREEN, *SCREEN_SIZE))
        for viewer in ("ben", "cat"):
            room = rooms[viewer]
            changed = await media_changed(room, "ann")
            assert (changed.screenShare, changed.camera) == (True, True)
            await until(decodes(room, "ann", SCREEN, screen=True), f"{viewer} decodes ann's screen")
            screen = room.screen_of("ann")
            assert screen is not None and screen.size == SCREEN_SIZE
            camera = room.video_of("ann")
            assert camera is not None and camera.size == (320, 240) and looks_like(camera, CAMERAS["ann"])
            assert await frames_in(screen) >= 5 and await frames_in(camera) >= 5  # both keep coming
        assert rooms["ann"].screen_of("ann") is None and not rooms["ann"].screens  # never its own

        rooms["ann"].screen_share(None)
        changed = await media_changed(rooms["ben"], "ann")
        assert (changed.screenShare, changed.camera) == (False, True)
        await until(lambda: rooms["ben"].screen_of("ann") is None, "ben's slot for ann's screen is freed")
        assert not rooms["ben"].participants["ann"].screenShare
        assert await frames_in(rooms["ben"].video_of("ann")) >= 5  # the camera carries on
    finally:
        for client in clients:
            await client.close()


async def test_a_screen_share_takes_a_slot_before_the_cameras(node):
    media_node, url = node
    media_node.settings.room_video_slots = 1  # ben sees one source at a time
    clients, rooms = await join_all(url, "one-slot-screens")
    ben = rooms["ben"]
    try:
        await until(lambda: looks_like(ben.video_of("ann"), CAMERAS["ann"]), "ben sees ann (the first camera)")
        (mid,) = ben.video_slots
        rooms["cat"].screen_share(ColorSource(SCREEN, *SCREEN_SIZE))
        await until(lambda: ben.screen_slots.get(mid) == "cat", "ben's only slot shows cat's screen")
        await until(lambda: looks_like(ben.screen_of("cat"), SCREEN), "ben decodes cat's screen")
        assert ben.video_of("ann") is None

        rooms["cat"].screen_share(None)
        await until(lambda: ben.video_slots.get(mid) == "ann", "the slot goes back to ann's camera")
        assert await frames_in(ben.videos["ann"]) >= 5
    finally:
        for client in clients:
            await client.close()


async def test_a_seat_without_video_cannot_share_a_screen(node):
    _, url = node
    ann = await RtcClient.connect(url, token("ann"))
    ben = await RtcClient.connect(url, token("ben"))
    try:
        audio_only = await ann.join_room("audio-screens")
        watcher = await ben.join_room("audio-screens", video=True)
        with pytest.raises(RuntimeError, match="video"):
            audio_only.screen_share(ColorSource(SCREEN))
        # a client that claims it anyway changes nothing: the seat has no screen to forward
        await ann.send(sig.MediaState(callId=audio_only.id, screenShare=True))
        await ann.send(sig.MediaState(callId=audio_only.id, muted=True, screenShare=True))
        changed = await media_changed(watcher, "ann")
        assert (changed.muted, changed.screenShare) == (True, False)
    finally:
        await ann.close()
        await ben.close()
