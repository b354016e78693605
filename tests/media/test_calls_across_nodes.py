"""1:1 calls between identities on different media nodes: two real nodes in this process (aiohttp + aiortc on
loopback), each the other's only peer, and real SDK clients. The call is anchored on the caller's node; the callee's
node only carries signalling. What the records say, and the events they make, is covered end to end on two node
processes in tests/integration/test_webrtc_calls_across_nodes.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from switchboard_media.server import Node
from switchboard_media.settings import NodeSettings
from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.media.conftest import CONTROL_KEY, KEY, FakeRecords, token
from tests.support.audio import dominant_frequency, rms

pytestmark = pytest.mark.asyncio


class Fleet:
    """Nodes A and B, sharing the call records; each node's peers are the others."""

    def __init__(self, records: FakeRecords) -> None:
        self.records = records
        self.urls: dict[str, str] = {}
        self.nodes: dict[str, Node] = {}
        self.servers: dict[str, TestServer] = {}

    async def start(self, name: str) -> None:
        async def peers() -> list[str]:
            return [url for other, url in self.urls.items() if other != name]

        settings = NodeSettings(node_id=f"node-{name}", ring_timeout_seconds=10)
        node = Node(settings, KEY, self.records, control_key=CONTROL_KEY, peers=peers)
        node.remote_calls._watch_seconds = 0.5  # type: ignore[union-attr]  # lost nodes are noticed quickly here
        server = TestServer(node.application(), host="127.0.0.1")
        await server.start_server()
        self.urls[name] = str(server.make_url("")).rstrip("/")
        node.bind(self.urls[name])
        self.nodes[name], self.servers[name] = node, server

    async def kill(self, name: str) -> None:
        """Stop listening and cut every connection at once, as a lost node would."""
        server, _ = self.servers[name], self.urls.pop(name)
        assert server.runner is not None and server.runner.server is not None
        for site in list(server.runner.sites):
            await site.stop()
        for handler in server.runner.server.connections:
            if handler.transport is not None:
                handler.transport.abort()

    async def stop(self, name: str) -> None:
        self.urls.pop(name, None)
        server = self.servers.pop(name, None)
        node = self.nodes.pop(name, None)
        if node is not None:
            await node.shutdown()
        if server is not None:
            await server.close()


@pytest_asyncio.fixture
async def fleet(records: FakeRecords) -> AsyncIterator[Fleet]:
    running = Fleet(records)
    await running.start("a")
    await running.start("b")
    yield running
    for name in list(running.nodes):
        await running.stop(name)


async def connect(fleet: Fleet, node: str, identity: str, account: str = "account-media") -> RtcClient:
    return await RtcClient.connect(fleet.urls[node], token(identity, account=account, name=f"{identity} display"))


async def test_a_call_to_an_identity_on_another_node_carries_tones_mute_and_text(fleet, records):
    alice, bob = await connect(fleet, "a", "alice"), await connect(fleet, "b", "bob")
    try:
        alice_hears, bob_hears = AudioSink(), AudioSink()
        call = await alice.call_webrtc("bob", audio_source=ToneSource(1000), audio_sink=alice_hears)
        await call.ringing()
        incoming = await asyncio.wait_for(bob.incoming_calls.get(), 10)
        assert (incoming.peer, incoming.peer_display_name) == ("alice", "alice display")
        await incoming.accept(audio_source=ToneSource(2000), audio_sink=bob_hears)
        await asyncio.gather(call.media_connected(), incoming.media_connected())
        # both legs' media are on the anchor (A): bob's SDK used A's WHIP URL as given
        assert fleet.nodes["a"].calls.bridge_of(call.id) is not None
        assert fleet.nodes["b"].calls.bridge_of(call.id) is None
        await asyncio.sleep(1.5)
        assert abs(dominant_frequency(bob_hears.samples[-48000:]) - 1000) < 20
        assert abs(dominant_frequency(alice_hears.samples[-48000:]) - 2000) < 20

        call.mute(True)
        assert (await incoming.next_event("remote-muted")).name == "remote-muted"
        await asyncio.sleep(1.0)
        assert rms(bob_hears.samples[-9600:]) < 100
        incoming.mute(True)
        assert (await call.next_event("remote-muted")).name == "remote-muted"
        call.mute(False)
        assert (await incoming.next_event("remote-unmuted")).name == "remote-unmuted"

        assert await call.send_text("hello bob") == "bob"
        received = await asyncio.wait_for(incoming.messages.get(), 10)
        assert (received.from_, received.text) == ("alice", "hello bob")
        assert await incoming.send_text("hi alice", to="alice") == "alice"
        reply = await asyncio.wait_for(call.messages.get(), 10)
        assert (reply.from_, reply.text, reply.direct) == ("bob", "hi alice", True)

        await incoming.hangup()
        assert await call.ended() == "NORMAL_HANGUP"
        assert await incoming.ended() == "NORMAL_HANGUP"
        for leg in (call.id, incoming.id):
            assert records.of(leg) == ["start", "ringing", "establish", "hangup:NORMAL_HANGUP"]
    finally:
        await alice.close()
        await bob.close()


async def test_decline_cancel_and_answered_elsewhere_cross_nodes(fleet, records):
    alice = await connect(fleet, "a", "alice")
    bob_here, bob_there = await connect(fleet, "a", "bob"), await connect(fleet, "b", "bob")
    try:
        call = await alice.call_webrtc("bob")
        await asyncio.wait_for(bob_here.incoming_calls.get(), 10)
        await (await asyncio.wait_for(bob_there.incoming_calls.get(), 10)).decline()
        assert await call.ended() == "REJECTED"

        call = await alice.call_webrtc("bob")
        here = await asyncio.wait_for(bob_here.incoming_calls.get(), 10)
        there = await asyncio.wait_for(bob_there.incoming_calls.get(), 10)
        await call.hangup()
        assert await there.ended() == "CANCELLED"  # the caller's cancel stops the ringing on B
        assert await here.ended() == "CANCELLED"

        call = await alice.call_webrtc("bob")
        here = await asyncio.wait_for(bob_here.incoming_calls.get(), 10)
        there = await asyncio.wait_for(bob_there.incoming_calls.get(), 10)
        await there.accept()
        await asyncio.gather(call.established(), there.established())
        assert await here.ended() == "ANSWERED_ELSEWHERE"
        await call.hangup()
        assert await there.ended() == "NORMAL_HANGUP"

        call = await alice.call_webrtc("bob")
        here = await asyncio.wait_for(bob_here.incoming_calls.get(), 10)
        there = await asyncio.wait_for(bob_there.incoming_calls.get(), 10)
        await here.accept()
        await call.established()
        assert await there.ended() == "ANSWERED_ELSEWHERE"  # A's device answered: B's stops ringing
        await call.hangup()
        assert await here.ended() == "NORMAL_HANGUP"
    finally:
        for client in (alice, bob_here, bob_there):
            await client.close()


async def test_another_accounts_identity_on_the_other_node_never_rings(fleet, records):
    alice = await connect(fleet, "a", "alice")
    stranger = await connect(fleet, "b", "bob", account="account-other")
    try:
        call = await alice.call_webrtc("bob")
        assert await call.ended() == "DESTINATION_NOT_FOUND"
        await asyncio.sleep(0.5)
        assert stranger.incoming_calls.empty()
    finally:
        await alice.close()
        await stranger.close()


async def test_a_callee_node_that_goes_away_ends_the_call(fleet, records):
    alice, bob = await connect(fleet, "a", "alice"), await connect(fleet, "b", "bob")
    try:
        call = await alice.call_webrtc("bob", audio_source=ToneSource(1000))
        incoming = await asyncio.wait_for(bob.incoming_calls.get(), 10)
        await incoming.accept()
        await asyncio.gather(call.media_connected(), incoming.media_connected())
        await fleet.kill("b")  # B is gone without a word (it never drains)
        assert await call.ended(timeout=30) == "NETWORK_ERROR"
        assert records.of(call.id)[-1] == "hangup:NETWORK_ERROR"

        call = await alice.call_webrtc("bob")  # nobody rings any more
        assert await call.ended() == "DESTINATION_NOT_FOUND"
    finally:
        await alice.close()
        await bob.close()


async def test_relayed_requests_need_the_control_key(fleet):
    import aiohttp

    url = f"{fleet.urls['b']}/internal/v1/remote-calls/leg-x/ring"
    async with aiohttp.ClientSession() as http, http.post(url, json={"partyId": "p"}) as response:
        assert response.status == 401
