"""Media tests run a real media node (aiohttp + aiortc) in-process on loopback and real SDK clients against it.

Call records go to a fake that keeps the transitions in memory (it lives here, with the tests): these tests are
about signalling and media; the records and their events are covered with the real service in tests/functional
and end to end in tests/integration.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from chalicelib.contract.tokens import TokenClaims, sign
from switchboard_media.calls import CallRecords
from switchboard_media.server import Node
from switchboard_media.settings import NodeSettings

KEY = os.urandom(32)
CONTROL_KEY = os.urandom(32)
ACCOUNT = "account-media"


def token(identity: str, *, account: str = ACCOUNT, ttl: int = 600, key: bytes = KEY, name: str | None = None) -> str:
    now = int(time.time())
    claims = TokenClaims(acc=account, identity=identity, name=name, iat=now, exp=now + ttl, jti=uuid.uuid4().hex)
    return sign(claims, key)


@dataclass
class FakeRecords(CallRecords):
    transitions: list[tuple[str, str, tuple[object, ...]]] = field(default_factory=list)
    legs: dict[str, str] = field(default_factory=dict)  # leg id -> identity
    events: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)  # actions' events
    conferences: list[tuple[str, str, tuple[object, ...]]] = field(default_factory=list)  # (report, conference, args)
    dialogs: list[tuple[str, str, tuple[object, ...]]] = field(default_factory=list)  # (report, dialog, args)

    async def start(self, account_id, caller, callee_identity, video, node_id):
        caller_leg, callee_leg = f"leg-{uuid.uuid4().hex[:8]}", f"leg-{uuid.uuid4().hex[:8]}"
        self.legs.update({caller_leg: caller.identity, callee_leg: callee_identity})
        self.transitions += [("start", caller_leg, ()), ("start", callee_leg, ())]
        return caller_leg, callee_leg

    async def start_application_call(self, account_id, caller, configuration_id, video, custom_data, node_id):
        leg = f"app-{uuid.uuid4().hex[:8]}"
        self.legs[leg] = caller.identity
        self.transitions.append(("start", leg, (configuration_id,)))
        return leg

    async def action_event(self, account_id, call_id, event_type, properties):
        self.events.append((call_id, event_type, {k: v for k, v in properties.items() if v is not None}))

    async def transition(self, name, account_id, call_id, *args):
        self.transitions.append((name, call_id, args))

    async def conference(self, name, account_id, conference_id, *args, **kwargs):
        self.conferences.append((name, conference_id, (*args, *kwargs.values())))

    async def dialog(self, name, account_id, dialog_id, *args, **kwargs):
        self.dialogs.append((name, dialog_id, (*args, *kwargs.values())))

    def of_dialog(self, dialog_id: str) -> list[tuple[object, ...]]:
        return [(report, *args) for report, dialog, args in self.dialogs if dialog == dialog_id]

    def of_conference(self, conference_id: str, name: str) -> list[tuple[object, ...]]:
        return [args for report, conference, args in self.conferences if (report, conference) == (name, conference_id)]

    def of(self, leg: str) -> list[str]:
        return [name if not args else f"{name}:{args[0]}" for name, call, args in self.transitions if call == leg]


@pytest.fixture
def records() -> FakeRecords:
    return FakeRecords()


@pytest_asyncio.fixture
async def pair(node):
    """alice and bob, connected to the node (and closed after the test)."""
    from switchboard_rtc import RtcClient

    _, url = node
    alice = await RtcClient.connect(url, token("alice", name="alice display"))
    bob = await RtcClient.connect(url, token("bob", name="bob display"))
    yield alice, bob
    await alice.close()
    await bob.close()


@pytest.fixture
def audio_path() -> str:
    """Which path 1:1 audio takes; tests/media/test_calls.py runs every test on both."""
    return "pass-through"


@pytest_asyncio.fixture
async def node(records: FakeRecords, audio_path: str):
    settings = NodeSettings(ring_timeout_seconds=3, passthrough=audio_path == "pass-through")
    media_node = Node(settings, KEY, records, control_key=CONTROL_KEY)
    server = TestServer(media_node.application(), host="127.0.0.1")
    await server.start_server()
    media_node.bind(str(server.make_url("")).rstrip("/"))
    yield media_node, str(server.make_url("")).rstrip("/")
    await media_node.shutdown()
    await server.close()
