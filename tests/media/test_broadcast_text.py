"""Text the application broadcasts (`broadcast-webrtc-text`), as the control plane asks a real media node for it
(its signed client): the `broadcast-text` route delivers it to the call's SDK session; calls without one are not
found, bad or unsigned bodies are refused."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from chalicelib.contract import control as contract
from chalicelib.media_nodes.control import MediaNodeClient, MediaNodeError
from tests.media.conftest import ACCOUNT, CONTROL_KEY

pytestmark = pytest.mark.asyncio


async def send(url: str, call_id: str, text: str) -> contract.ActionResult:
    """What the control plane does for `broadcast-webrtc-text`: the node's signed client posts the action."""
    client = MediaNodeClient(url, key=CONTROL_KEY)
    request = contract.BroadcastTextRequest(text=text)
    return await asyncio.to_thread(client.action, call_id, "broadcast-text", request)


async def broadcast(url: str, call_id: str, body: bytes, key: bytes = CONTROL_KEY) -> httpx.Response:
    """POST any body to the route, signed as the control plane's client signs (to check what the node refuses)."""
    path = f"{contract.CONTROL_PREFIX}/calls/{call_id}/broadcast-text"
    headers = contract.signed_headers(key, int(time.time()), "POST", path, body)
    async with httpx.AsyncClient(trust_env=False) as http:
        return await http.post(f"{url}{path}", content=body, headers={**headers, "Content-Type": "application/json"})


def text(value: str) -> bytes:
    return contract.BroadcastTextRequest(text=value).model_dump_json().encode()


async def test_the_application_broadcasts_text_to_the_sdk_of_its_calls(node, pair):
    _, url = node
    alice, bob = pair
    node_client = MediaNodeClient(url, key=CONTROL_KEY)

    # an SDK called the application, which answered
    inbound = await alice.call_application("ivr")
    await asyncio.to_thread(node_client.action, inbound.id, "answer")
    await inbound.established()
    assert (await send(url, inbound.id, "The meeting starts in 5 minutes ⏰")).status == "COMPLETED"
    got = await asyncio.wait_for(inbound.broadcasts.get(), 5)
    assert (got.callId, got.text) == (inbound.id, "The meeting starts in 5 minutes ⏰")

    # the application called an identity, which answered
    await asyncio.to_thread(node_client.dial, "api-bcast-1", ACCOUNT, "bob", "ivr")
    outbound = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await outbound.accept()
    await outbound.established()
    assert (await send(url, "api-bcast-1", "hello bob")).status == "COMPLETED"
    assert (await asyncio.wait_for(outbound.broadcasts.get(), 5)).text == "hello bob"
    assert inbound.broadcasts.empty()  # each call gets only its own
    assert inbound.messages.empty() and outbound.messages.empty()  # not a participant's text


async def test_calls_without_an_sdk_session_are_not_found_and_bad_bodies_refused(node, pair):
    _, url = node
    alice, bob = pair
    with pytest.raises(MediaNodeError) as unknown:
        await send(url, "no-such-call", "hi")
    assert unknown.value.status == 404 and "UNKNOWN_CALL" in unknown.value.body

    # a 1:1 WebRTC call is not the application's: nothing to broadcast to
    call = await alice.call_webrtc("bob")
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept()
    await call.established()
    assert (await broadcast(url, call.id, text("hi"))).status_code == 404

    # the application dialled alice's devices, none has answered yet: no session is in the call
    await asyncio.to_thread(MediaNodeClient(url, key=CONTROL_KEY).dial, "api-bcast-2", ACCOUNT, "alice", "ivr")
    await asyncio.wait_for(alice.incoming_calls.get(), 5)
    assert (await broadcast(url, "api-bcast-2", text("too early"))).status_code == 404

    inbound = await alice.call_application("ivr")
    for body in (b'{"text": ""}', b"{}", b"not json", text("x" * 4096).replace(b'"}', b'x"}')):
        refused = await broadcast(url, inbound.id, body)
        assert refused.status_code == 400 and refused.json()["error"] == "BAD_REQUEST", body[:20]
    unsigned = await broadcast(url, inbound.id, text("hi"), key=b"not-the-key" * 3)
    assert unsigned.status_code == 401
    await asyncio.sleep(0.3)
    assert inbound.broadcasts.empty()
