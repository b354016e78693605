"""Bad input to a media node is refused cleanly, and the node keeps serving other calls."""

from __future__ import annotations

import asyncio
import os

import aiohttp
import pytest

from switchboard_rtc import RtcClient, RtcError
from tests.media.conftest import token

pytestmark = pytest.mark.asyncio


async def first_reply(url: str, *frames: str | bytes) -> list[dict]:
    async with aiohttp.ClientSession() as http, http.ws_connect(url.replace("http", "ws", 1) + "/ws") as ws:
        replies = []
        for frame in frames:
            await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
            message = await ws.receive(timeout=5)
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            replies.append(message.json())
        return replies


@pytest.mark.parametrize(
    "bad_token, reason",
    [
        (token("alice", ttl=-120), "expired"),
        (token("alice", key=os.urandom(32)), "signature"),
        ("not-a-token", "three"),
        (token("alice")[:-3] + "abc", "signature"),
    ],
)
async def test_bad_tokens_are_refused(node, bad_token, reason):
    _, url = node
    with pytest.raises(RtcError) as raised:
        await RtcClient.connect(url, bad_token)
    assert raised.value.code == "UNAUTHENTICATED" and reason in raised.value.text


async def test_the_first_frame_must_be_hello(node):
    _, url = node
    (reply,) = await first_reply(url, '{"type":"call","requestId":"1","to":"bob"}')
    assert reply["code"] == "UNAUTHENTICATED"


async def test_garbage_oversized_and_binary_frames_get_errors_and_the_session_lives_on(node):
    _, url = node
    replies = await first_reply(
        url,
        f'{{"type":"hello","token":"{token("mallory")}"}}',
        "{not json",
        '{"type":"teleport"}',
        '{"type":"call","requestId":"1","to":"x"}',
        "x" * 20_000,
        b"\x00\x01",
        '{"type":"ping"}',
        '{"type":"accept","callId":"no-such-call"}',
    )
    assert [r.get("code", r["type"]) for r in replies] == [
        "registered",
        "BAD_MESSAGE",
        "BAD_MESSAGE",
        "BAD_MESSAGE",
        "MESSAGE_TOO_LARGE",
        "BAD_MESSAGE",
        "pong",
        "UNKNOWN_CALL",
    ]


async def test_offers_for_unknown_legs_or_without_a_valid_ticket_are_refused(node):
    media_node, url = node
    async with aiohttp.ClientSession() as http:
        sdp = {"Content-Type": "application/sdp"}
        response = await http.post(f"{url}/whip/leg-x", data="v=0", headers={**sdp, "Authorization": "Bearer 1.2"})
        assert response.status == 401
        ticket = media_node.tickets.issue("leg-x")
        response = await http.post(
            f"{url}/whip/leg-x", data="v=0", headers={**sdp, "Authorization": f"Bearer {ticket}"}
        )
        assert response.status == 404
        response = await http.post(f"{url}/whip/leg-x", data="v=0", headers={"Content-Type": "text/plain"})
        assert response.status == 415
        response = await http.post(
            f"{url}/whip/leg-y", data="v=0", headers={**sdp, "Authorization": f"Bearer {ticket}"}
        )
        assert response.status == 401  # a ticket is for one leg only


async def test_calls_still_work_after_all_that(node):
    await test_garbage_oversized_and_binary_frames_get_errors_and_the_session_lives_on(node)
    _, url = node
    alice = await RtcClient.connect(url, token("alice"))
    bob = await RtcClient.connect(url, token("bob"))
    try:
        call = await alice.call_webrtc("bob")
        incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
        await incoming.accept()
        await call.established()
        await call.hangup()
        assert await incoming.ended() == "NORMAL_HANGUP"
    finally:
        await alice.close()
        await bob.close()


async def test_identities_of_other_accounts_cannot_be_called(node):
    _, url = node
    alice = await RtcClient.connect(url, token("alice"))
    other_bob = await RtcClient.connect(url, token("bob", account="another-account"))
    try:
        call = await alice.call_webrtc("bob")
        assert await call.ended() == "DESTINATION_NOT_FOUND"
        assert other_bob.incoming_calls.empty()
    finally:
        await alice.close()
        await other_bob.close()
