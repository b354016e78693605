"""Text in a room through a real media node, between Python-SDK participants: a broadcast reaches everyone else in
the room (and nobody in another account's room of the same name), a direct text only its target, and the sender
hears who acknowledged it; bad texts are refused with a clear error and the room carries on."""

from __future__ import annotations

import asyncio
import json

import pytest

from chalicelib.contract import signalling as sig
from switchboard_rtc import RtcClient, RtcError
from switchboard_rtc.room import RoomCall
from tests.media.conftest import token

pytestmark = pytest.mark.asyncio


async def received(room: RoomCall, timeout: float = 5) -> sig.DataMessage:
    return await asyncio.wait_for(room.messages.get(), timeout)


async def nothing_received(room: RoomCall, seconds: float = 0.5) -> None:
    await asyncio.sleep(seconds)
    assert room.messages.empty(), room.messages.get_nowait()


async def test_a_broadcast_reaches_everyone_else_and_a_direct_text_only_its_target(node):
    _, url = node
    names = ("ann", "ben", "cat")
    clients = {name: await RtcClient.connect(url, token(name)) for name in names}
    stranger = await RtcClient.connect(url, token("dan", account="another-account"))
    try:
        rooms = {name: await clients[name].join_room("standup") for name in names}
        elsewhere = await stranger.join_room("standup")  # the same name, another account: another room

        delivery = await rooms["ann"].deliver("hello everyone")
        assert (delivery.to, sorted(delivery.recipients), delivery.delivered) == (None, ["ben", "cat"], True)
        for name in ("ben", "cat"):
            text = await received(rooms[name])
            assert (text.from_, text.text, text.direct, text.callId) == ("ann", "hello everyone", False, rooms[name].id)
        await nothing_received(rooms["ann"])  # never to the sender itself
        await nothing_received(elsewhere, 0)

        delivery = await rooms["ben"].deliver("just for cat 👋", to="cat")
        assert (delivery.to, delivery.recipients, delivery.delivered) == ("cat", ["cat"], True)
        text = await received(rooms["cat"])
        assert (text.from_, text.text, text.direct) == ("ben", "just for cat 👋", True)
        await nothing_received(rooms["ann"])
        assert await rooms["cat"].send_text("thanks", to="ben") == "ben"
        assert (await received(rooms["ben"])).text == "thanks"
    finally:
        for client in (*clients.values(), stranger):
            await client.close()


async def test_bad_texts_are_refused_and_the_room_carries_on(node):
    _, url = node
    ann = await RtcClient.connect(url, token("ann"))
    ben = await RtcClient.connect(url, token("ben"))
    try:
        alone = await ann.join_room("quiet")
        nobody = await alone.deliver("anyone here?")  # an empty room: answered at once, not delivered
        assert (nobody.recipients, nobody.delivered) == ([], False)

        room = await ben.join_room("quiet")
        with pytest.raises(RtcError) as unknown:
            await alone.deliver("where are you", to="zed")
        assert unknown.value.code == "UNKNOWN_PARTICIPANT" and "zed" in unknown.value.text
        with pytest.raises(ValueError, match="4096"):  # the SDK does not send it
            await alone.deliver("x" * (sig.MAX_TEXT_CHARS + 1))
        while not ann.errors.empty():  # the refusal above was reported there too
            ann.errors.get_nowait()
        # sent anyway, the node refuses it, naming the message (so an SDK can fail the right send)
        too_long = {"type": "data", "callId": alone.id, "messageId": "m-0", "text": "x" * (sig.MAX_TEXT_CHARS + 1)}
        await ann.ws.send_str(json.dumps(too_long))
        refused = await asyncio.wait_for(ann.errors.get(), 5)
        assert (refused.code, refused.requestId) == ("BAD_MESSAGE", "m-0") and "text" in refused.text
        await ann.send(sig.SendData(callId=room.id, messageId="m-1", text="as ben"))  # another participant's seat
        refused = await asyncio.wait_for(ann.errors.get(), 5)
        assert (refused.code, refused.requestId) == ("UNKNOWN_CALL", "m-1")
        await nothing_received(room)

        longest = "y" * sig.MAX_TEXT_CHARS
        assert (await alone.deliver(longest)).recipients == ["ben"]
        assert (await received(room)).text == longest
    finally:
        await ann.close()
        await ben.close()


async def test_a_text_waits_only_for_the_participants_still_there(node):
    """A recipient that leaves before acknowledging does not hold the text up: the sender hears who did get it."""
    _, url = node
    clients = {name: await RtcClient.connect(url, token(name)) for name in ("ann", "ben", "cat")}
    try:
        rooms = {name: await clients[name].join_room("leaving") for name in clients}
        # cat's SDK stops acknowledging text (as if its page hung), then cat leaves
        rooms["cat"].on_data = _swallow  # type: ignore[method-assign]
        sending = asyncio.ensure_future(rooms["ann"].deliver("bye cat"))
        await received(rooms["ben"])
        await asyncio.sleep(0.3)
        assert not sending.done()  # still waiting for cat
        await rooms["cat"].leave()
        delivery = await asyncio.wait_for(sending, 5)
        assert (delivery.recipients, delivery.delivered) == (["ben"], True)
    finally:
        for client in clients.values():
            await client.close()


async def _swallow(message: sig.DataMessage) -> None:
    return None
