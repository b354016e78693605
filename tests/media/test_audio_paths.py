"""A 1:1 call's audio passes through the node untouched until an action needs it decoded, then is decoded, mixed and
re-encoded, and goes back to pass-through when the action ends, with no audible gap at the far end either way."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from switchboard_rtc import AudioSink, ToneSource
from tests.support.audio import dominant_frequency
from tests.support.rtp_probe import RtpProbe, largest_gap

pytestmark = pytest.mark.asyncio


async def test_an_action_switches_the_call_to_decoded_audio_and_back_without_a_gap(pair, node):
    media_node, _ = node
    alice, bob = pair
    bob_hears = AudioSink()
    call = await alice.call_webrtc("bob", audio_source=ToneSource(1000))
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
    await incoming.accept(audio_source=ToneSource(2000), audio_sink=bob_hears)
    await asyncio.gather(call.media_connected(), incoming.media_connected())
    assert incoming.pc is not None
    probe = RtpProbe(incoming.pc)
    bridge = media_node.calls.bridge_of(call.id)
    loop = asyncio.get_running_loop()
    await asyncio.sleep(1.0)
    assert bridge.mode == "pass-through"

    alice_said: list[np.ndarray] = []
    graph = bridge.hold_decoded("listening action")  # e.g. in-band DTMF detection on alice's side
    graph.members[call.id].listeners.append(alice_said.append)
    assert bridge.mode == "decoded"
    switched_to_decoded = loop.time()
    await asyncio.sleep(1.5)
    decoded_heard = list(bob_hears.samples[-48000:])
    bridge.release_decoded("listening action")  # takes effect on the next tick boundary
    released = loop.time()
    await asyncio.sleep(0.1)
    assert bridge.mode == "pass-through"
    switched_back = released
    await asyncio.sleep(1.0)

    # the action heard alice (her tone, decoded at the node) for as long as it held the call decoded
    said = np.concatenate(alice_said)
    assert 1.2 * 48000 < len(said) < 1.8 * 48000
    assert abs(dominant_frequency(said[-24000:].tolist()) - 1000) < 20
    # bob kept hearing alice's tone through the node's re-encoding, and after it
    assert abs(dominant_frequency(decoded_heard) - 1000) < 20
    assert abs(dominant_frequency(list(bob_hears.samples[-24000:])) - 1000) < 20
    # and never a gap over 40 ms around either switch (arrival, timestamps and sequence numbers all continuous)
    for switched in (switched_to_decoded, switched_back):
        window = probe.between(switched - 0.3, switched + 0.3)
        assert len(window) > 20
        assert largest_gap(window) <= 0.04, (switched, largest_gap(window))
    assert bridge.switches == 2
    await call.hangup()
