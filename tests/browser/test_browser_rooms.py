"""A room with two headless Chromium pages (the JS SDK) and a Python-SDK participant, through the media node of the
real local stack: each hears the others (checked by frequency), the browsers follow who joins, talks and leaves,
and a browser whose connection drops takes its seat back without the others noticing."""

from __future__ import annotations

import asyncio

import pytest

from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.browser.chromium import MICROPHONE_TONE_HZ, unavailable
from tests.browser.conftest import Tab
from tests.browser.harness import (
    browser_event,
    browser_events,
    connect_browser,
    heard_by_browser,
    python_hears,
    webrtc_token,
)
from tests.support.audio import dominant_frequency, rms
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]

PYTHON_TONE_HZ = 1000
QUIET_HZ = 3500  # neither side plays it: the analyser's floor


def participant_is(identity: str) -> str:
    return f"e.detail.participant.identity === {identity!r}"


async def hears_tones(tab: Tab, *frequencies: int) -> list[float]:
    """How far (dB) each tone stands above the floor in what the browser plays from the room."""
    levels: list[float] = await tab.page.evaluate("(f) => harness.levels(f)", [*frequencies, QUIET_HZ])
    return [level - levels[-1] for level in levels[:-1]]


@pytest.mark.asyncio
async def test_two_browsers_and_python_in_a_room_hear_each_other_and_follow_who_is_there(
    stack: Stack, two_tabs: tuple[Tab, Tab]
) -> None:
    rita, sam = two_tabs
    await connect_browser(rita, stack, "rita")
    await rita.page.evaluate("harness.joinRoom('standup')")
    joined = (await browser_event(rita, "room-joined"))["detail"]
    assert joined["name"] == "standup" and joined["id"] and joined["participants"] == []

    await connect_browser(sam, stack, "sam")
    await sam.page.evaluate("harness.joinRoom('standup')")
    assert (await browser_event(sam, "room-joined"))["detail"]["participants"] == [
        {"identity": "rita", "displayName": "Rita Example", "muted": False, "camera": False, "screenShare": False}
    ]
    assert (await browser_event(rita, "participant-joined"))["detail"]["participant"] == {
        "identity": "sam",
        "displayName": "Sam Example",
        "muted": False,
        "camera": False,
        "screenShare": False,
    }

    tom = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "tom"))
    try:
        tom_hears = AudioSink()
        room = await tom.join_room("standup", audio_source=ToneSource(PYTHON_TONE_HZ), audio_sink=tom_hears)
        assert set(room.participants) == {"rita", "sam"}
        for tab in two_tabs:
            await browser_events(tab, "participant-joined", where=participant_is("tom"))
            await browser_event(tab, "remote-audio-added")
        await room.media_connected()
        await asyncio.sleep(1.5)  # jitter buffers fill

        # each browser hears Python's tone; Python hears the browsers' microphones (and not its own tone)
        for tab in two_tabs:
            energy, received = await heard_by_browser(tab)
            assert received > 2000 and energy > 0.01, (energy, received)
            assert (await hears_tones(tab, PYTHON_TONE_HZ))[0] > 30
        heard = await python_hears(tom_hears)
        assert abs(dominant_frequency(heard) - MICROPHONE_TONE_HZ) < 20 and rms(heard) > 300, rms(heard)

        # with Python muted, each browser hears the other's microphone and nothing of Python
        room.mute(True)
        await asyncio.sleep(0.7)
        for tab in two_tabs:
            python_tone, microphone = await hears_tones(tab, PYTHON_TONE_HZ, MICROPHONE_TONE_HZ)
            assert microphone > 30 and python_tone < microphone - 30, (python_tone, microphone)

        # talking: the node tells the others who talks; a muted participant stops talking
        await browser_events(rita, "participant-started-talking", where=participant_is("tom"))
        await browser_events(rita, "participant-started-talking", where=participant_is("sam"))
        muted_at = await sam.page.evaluate("Date.now()")
        await sam.page.evaluate("harness.mute(true)")
        await browser_events(rita, "participant-stopped-talking", where=f"{participant_is('sam')} && e.at > {muted_at}")
        muted = await browser_events(rita, "participant-media-changed", where=participant_is("sam"))
        assert muted[-1]["detail"]["participant"]["muted"] is True  # the others learn that sam muted
        assert room.participants["sam"].muted  # and so does the Python SDK
        await asyncio.sleep(0.5)
        assert (await hears_tones(rita, MICROPHONE_TONE_HZ))[0] < 20  # sam's microphone is silent now
        room.mute(False)

        # rita's connection drops: her SDK reconnects, takes back her seat and hears the room again
        await rita.page.evaluate("harness.dropConnection()")
        await browser_event(rita, "reconnecting")
        await browser_event(rita, "reconnected")
        await browser_events(rita, "remote-audio-added", count=2)
        await asyncio.sleep(1.5)
        energy, received = await heard_by_browser(rita)
        assert received > 2000 and energy > 0.01, (energy, received)
        assert (await hears_tones(rita, PYTHON_TONE_HZ))[0] > 20
        heard = await python_hears(tom_hears)
        assert abs(dominant_frequency(heard) - MICROPHONE_TONE_HZ) < 20 and rms(heard) > 300, rms(heard)
        state = await rita.page.evaluate("harness.roomState()")
        assert state["id"] == joined["id"] and state["status"] == "ESTABLISHED"
        assert {p["identity"] for p in state["participants"]} == {"sam", "tom"}
        assert set(room.participants) == {"rita", "sam"}  # the others saw no one leave

        await room.leave()
        for tab in two_tabs:
            await browser_events(tab, "participant-left", where=participant_is("tom"))
        await rita.page.evaluate("harness.leave()")
        assert (await browser_event(rita, "room-left"))["errorCode"] == "NORMAL_HANGUP"
        await browser_events(sam, "participant-left", where=participant_is("rita"))
        assert (await sam.page.evaluate("harness.roomState()"))["participants"] == []
        assert rita.errors == [] and sam.errors == []
    finally:
        await tom.close()
