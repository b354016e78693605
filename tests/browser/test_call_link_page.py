"""Call links opened in headless Chromium against the real local stack.

- WEBRTC: the branded page (theme colour and localised text checked in the DOM, and a screenshot), the user types a
  name and starts a call, a Python-SDK identity answers, and a tone goes each way (checked by frequency); hanging up
  frees the destination for the next caller, and the configuration's webhook receives the signed status event.
- ROOM with a password: a wrong password is refused, the right one joins; two pages and a Python-SDK participant hear
  each other (tones by frequency) and the room's chat reaches everyone.
- APPLICATION: the page's call reaches the application's webhook as CALL_RECEIVED; the test, as the application,
  answers and says a sentence through the Calls API, and the page receives the speech.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chalicelib.events import signing
from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.browser.chromium import MICROPHONE_TONE_HZ, unavailable
from tests.browser.conftest import chromium
from tests.browser.harness import python_hears, webrtc_token
from tests.support.audio import dominant_frequency, rms
from tests.support.openapi import schema_validator
from tests.support.payloads import subscription
from tests.support.receiver import Receiver
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]

AGENT_TONE_HZ = 700
PYTHON_TONE_HZ = 1000
QUIET_HZ = 3500  # nobody plays it: the analyser's floor
WEBRTC_DOC = "infobip-webrtc-calls-openapi.json"
STATUS_SECRET = "call-link-status-secret"
SENTENCE = "Thank you for calling. Your parcel number forty two leaves the warehouse tomorrow morning."
INBOUND_AUDIO = """async () => {
  const pc = window.callLinkPage.call().peerConnection();
  if (!pc) return null;
  const stats = await pc.getStats();
  for (const report of stats.values())
    if (report.type === "inbound-rtp" && report.kind === "audio")
      return { energy: report.totalAudioEnergy || 0, bytes: report.bytesReceived || 0 };
  return null;
}"""


def api(stack: Stack, method: str, path: str, body: dict | None = None) -> dict:
    response = httpx.request(method, f"{stack.url}{path}", headers=stack.headers, json=body)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


async def status_event(receiver: Receiver, path: str, timeout: float = 60) -> tuple[dict[str, Any], Any]:
    """The one Call Link status event the configuration's webhook at `path` received (and its request)."""
    for _ in range(int(timeout / 0.2)):
        accepted = receiver.accepted(path)
        if accepted:
            await asyncio.sleep(1)  # nothing more may follow for the same session
            (request,) = receiver.accepted(path)
            return request.event, request
        await asyncio.sleep(0.2)
    raise AssertionError(f"no status event at {path}: {[r.path for r in receiver.all()]}")


LISTEN = """() => {
  const stream = window.callLinkPage.call().remoteStream();
  if (!stream || window.analyser) return !!stream;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 8192;
  analyser.smoothingTimeConstant = 0;
  context.createMediaStreamSource(new MediaStream(stream.getAudioTracks())).connect(analyser);
  window.analyser = { analyser, rate: context.sampleRate };
  return true;
}"""
LEVELS = """(frequencies) => {
  const { analyser, rate } = window.analyser;
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  const at = (f) => Math.round((f * analyser.fftSize) / rate);
  return frequencies.map((f) => Math.max(-200, ...bins.slice(at(f) - 2, at(f) + 3)));
}"""


async def hears_tones(page, *frequencies: int) -> list[float]:
    """How far (dB) each tone stands above the floor in what the page plays from the room."""
    await page.wait_for_function(LISTEN, timeout=20_000)
    await page.wait_for_function("window.analyser.analyser.context.currentTime > 0.5", timeout=10_000)
    levels: list[float] = await page.evaluate(LEVELS, [*frequencies, QUIET_HZ])
    return [level - levels[-1] for level in levels[:-1]]


async def page_events(page, name: str, timeout: float = 20) -> list[dict]:
    found = f"window.callLinkPage.events.filter(e => e.name === '{name}')"
    try:
        await page.wait_for_function(f"{found}.length > 0", timeout=timeout * 1000)
    except Exception as error:
        seen = await page.evaluate("window.callLinkPage.events")
        raise AssertionError(f"no {name!r} on the page: {seen}") from error
    return list(await page.evaluate(found))


@pytest.mark.asyncio
async def test_a_webrtc_link_page_calls_a_python_identity_and_they_hear_each_other(
    stack: Stack, microphone: Path, tmp_path: Path, receiver: Receiver
) -> None:
    config = api(
        stack,
        "POST",
        "/call-link/1/configs",
        {
            "name": "Browser test",
            "isDefault": True,
            "initialOptions": {"audio": True, "video": False, "muted": False},
            "theme": {
                "colors": {"primary": "C0FFEE", "primaryText": "202020", "background": "FFFFFF"},
                "localization": {"type": "PRESET", "languageCode": "fr-FR"},
            },
            "webhook": {
                "url": f"{receiver.url}/call-link-status",
                "securityConfig": {"type": "HMAC", "secretKey": STATUS_SECRET, "algorithm": "HMAC_SHA_512"},
            },
        },
    )
    link = api(
        stack,
        "POST",
        "/call-link/1/links",
        {
            "destination": {"type": "WEBRTC", "identity": "cl-agent", "displayName": "Agent"},
            "callLinkConfigId": config["id"],
            "customData": {"ticket": "T-7"},
        },
    )
    agent = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "cl-agent"))
    try:
        agent_hears = AudioSink()
        async with chromium(microphone) as browser:
            page = await browser.new_page(viewport={"width": 900, "height": 700})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            # the link's own URL: the local runner's public base URL names the port the OS chose for the API
            assert link["url"] == f"{stack.url}/{link['id']}"
            await page.goto(link["url"])
            await page.wait_for_function("window.callLinkPage && window.callLinkPage.ready", timeout=10_000)

            # the branded, localised page
            assert await page.locator("#message").text_content() == "Bienvenue sur Call Link."
            assert await page.locator("#start-audio").text_content() == "Démarrer un appel audio"
            assert await page.locator("#start-video").is_hidden()  # InitialOptions.video is false
            colour = await page.eval_on_selector("#start-audio", "b => getComputedStyle(b).backgroundColor")
            assert colour == "rgb(192, 255, 238)"  # C0FFEE
            await page.screenshot(path=str(tmp_path / "call-link.png"))
            assert (tmp_path / "call-link.png").stat().st_size > 1000

            # the user types a name and starts the call; the agent's SDK rings and answers
            await page.fill("#name", "Marie Curie")
            await page.click("#start-audio")
            incoming = await asyncio.wait_for(agent.incoming_calls.get(), 20)
            assert incoming.peer_display_name == "Marie Curie" and incoming.peer.startswith("Marie-Curie-")
            await incoming.accept(audio_source=ToneSource(AGENT_TONE_HZ), audio_sink=agent_hears)
            await incoming.media_connected()
            (established,) = await page_events(page, "established")
            assert await page.locator("#status").text_content() == "En communication"
            await asyncio.sleep(1.5)  # jitter buffers fill

            # the agent hears the browser's microphone, and the browser receives the agent's tone
            heard = await python_hears(agent_hears)
            assert abs(dominant_frequency(heard) - MICROPHONE_TONE_HZ) < 20 and rms(heard) > 300, rms(heard)
            before = await page.evaluate(INBOUND_AUDIO)
            await asyncio.sleep(1)
            after = await page.evaluate(INBOUND_AUDIO)
            assert after["bytes"] - before["bytes"] > 2000 and after["energy"] - before["energy"] > 0.01
            await page.screenshot(path=str(tmp_path / "call-link-in-call.png"))

            # one caller at a time: while this call lasts, the destination refuses another session
            busy = httpx.post(f"{stack.url}/call-link/page/{link['id']}/session", json={"displayName": "Other"})
            assert busy.status_code == 429, busy.text

            await page.click("#hangup")
            assert await incoming.ended() == "NORMAL_HANGUP"
            await page_events(page, "hangup")
            assert await page.locator("#status").text_content() == "L'appel est terminé."
            assert errors == []

        # the page reported the end: the destination takes the next caller
        for _ in range(50):
            free = httpx.post(f"{stack.url}/call-link/page/{link['id']}/session", json={"displayName": "Next"})
            if free.status_code == 201:
                break
            await asyncio.sleep(0.2)
        assert free.status_code == 201, free.text

        # the configuration's webhook gets the status event, signed with its HMAC key
        event, request = await status_event(receiver, "/call-link-status")
        signing.verify(
            STATUS_SECRET,
            request.headers["x-switchboard-timestamp"],
            request.body,
            request.headers["x-switchboard-signature"],
        )
        schema_validator(WEBRTC_DOC, "WebhookEventPayload")(event)
        schema_validator(WEBRTC_DOC, "WebRtcCallDetails")(event["callDetails"])
        assert (event["callLinkId"], event["callLinkConfigId"]) == (link["id"], config["id"])
        assert event["customData"] == {"ticket": "T-7"} and event["errorCode"]["name"] == "NORMAL_HANGUP"
        caller, callee = event["callDetails"]["caller"], event["callDetails"]["callee"]
        assert caller["callId"] == established["id"]
        assert caller["endpoint"] == {"type": "WEBRTC", "identity": incoming.peer, "displayName": "Marie Curie"}
        assert callee["endpoint"]["identity"] == "cl-agent" and callee["callId"] == incoming.id
        assert caller["state"] == callee["state"] == "FINISHED"
        assert caller["duration"] >= 2 and caller["joinTime"] < caller["leaveTime"]
    finally:
        await agent.close()


async def open_link(browser, url: str, errors: list[str]):
    page = await browser.new_page(viewport={"width": 900, "height": 700})
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(url)
    await page.wait_for_function("window.callLinkPage && window.callLinkPage.ready", timeout=10_000)
    return page


async def join_with(page, name: str, password: str) -> None:
    await page.fill("#name", name)
    await page.fill("#password", password)
    await page.click("#start-audio")


@pytest.mark.asyncio
async def test_a_protected_room_link_refuses_a_wrong_password_and_its_members_hear_and_chat(
    stack: Stack, microphone: Path, receiver: Receiver
) -> None:
    config = api(
        stack,
        "POST",
        "/call-link/1/configs",
        {
            "name": "Room test",
            "initialOptions": {"audio": True, "video": False, "muted": False},  # Infobip's default joins muted
            "webhook": {"url": f"{receiver.url}/room-status"},
        },
    )
    link = api(
        stack,
        "POST",
        "/call-link/1/links",
        {
            "destination": {"type": "ROOM", "roomName": "cl-standup", "password": "open-sesame", "chat": True},
            "callLinkConfigId": config["id"],
        },
    )
    errors: list[str] = []
    async with chromium(microphone) as browser:
        ana = await open_link(browser, link["url"], errors)
        assert await ana.locator("#password-field").is_visible()

        # a wrong password is refused with the page's own words, and no session starts
        await join_with(ana, "Ana", "wrong-one")
        (refused,) = await page_events(ana, "session-refused")
        assert refused["status"] == 403 and refused["messageId"] == "FORBIDDEN", refused
        assert await ana.locator("#error").text_content() != ""
        assert await ana.evaluate("window.callLinkPage.session()") is None

        # the right one joins; a second browser joins too
        await join_with(ana, "Ana", "open-sesame")
        await page_events(ana, "established")
        ben = await open_link(browser, f"{stack.url}/?{link['id']}", errors)  # the SMS form of the URL
        await join_with(ben, "Ben", "open-sesame")
        await page_events(ben, "established")
        assert await ben.locator("#chat").is_visible()

        tom = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "cl-tom"))
        try:
            tom_hears = AudioSink()
            room = await tom.join_room("cl-standup", audio_source=ToneSource(PYTHON_TONE_HZ), audio_sink=tom_hears)
            assert len(room.participants) == 2
            await room.media_connected()
            await asyncio.sleep(2)  # jitter buffers fill

            # each page hears Python's tone and the other page's microphone; Python hears the pages
            for page in (ana, ben):
                python_tone, microphone_tone = await hears_tones(page, PYTHON_TONE_HZ, MICROPHONE_TONE_HZ)
                assert python_tone > 30 and microphone_tone > 30, (python_tone, microphone_tone)
            heard = await python_hears(tom_hears)
            assert abs(dominant_frequency(heard) - MICROPHONE_TONE_HZ) < 20 and rms(heard) > 300, rms(heard)

            # chat: a page's message reaches the other page and Python; Python's reaches both pages
            await ana.fill("#chat-input", "hello from Ana")
            await ana.click("#chat-send")
            assert [e["text"] for e in await page_events(ben, "chat")] == ["hello from Ana"]
            from_ana = await asyncio.wait_for(room.messages.get(), 15)
            assert from_ana.text == "hello from Ana"
            await room.send_text("hi pages")
            for page in (ana, ben):
                await page.wait_for_function(
                    "window.callLinkPage.events.some(e => e.name === 'chat' && e.text === 'hi pages')",
                    timeout=15_000,
                )
            assert "hi pages" in (await ben.locator("#chat-log").text_content() or "")

            # Ana leaves: the configuration's webhook hears of her (a room never uses a link up)
            await ana.click("#hangup")
            await page_events(ana, "hangup")
            event, _ = await status_event(receiver, "/room-status")
            schema_validator(WEBRTC_DOC, "WebhookEventPayload")(event)
            schema_validator(WEBRTC_DOC, "RoomCallDetails")(event["callDetails"])
            (participant,) = event["callDetails"]["participants"]
            assert participant["endpoint"]["displayName"] == "Ana" and participant["state"] == "LEFT"
            assert event["callLinkId"] == link["id"]
            await room.leave()
        finally:
            await tom.close()
        assert errors == []


@pytest.mark.asyncio
async def test_an_application_link_reaches_the_application_which_answers_and_speaks(
    stack: Stack, microphone: Path, receiver: Receiver
) -> None:
    api(stack, "POST", "/calls/1/configurations", {"id": "cl-desk", "name": "Call-link desk"})
    hook = subscription(
        "cl-desk-events",
        f"{receiver.url}/events",
        ["CALL_RECEIVED", "CALL_ESTABLISHED", "SAY_FINISHED", "CALL_FINISHED"],
        criteria=[{"callsConfigurationId": "cl-desk"}],
    )
    api(stack, "POST", "/subscriptions/1/subscription/VOICE_VIDEO", hook)
    config = api(stack, "POST", "/call-link/1/configs", {"name": "Desk", "webhook": {"url": f"{receiver.url}/desk"}})
    link = api(
        stack,
        "POST",
        "/call-link/1/links",
        {
            "identity": "cl-customer",
            "displayName": "Customer",
            "destination": {"type": "APPLICATION", "callsConfigurationId": "cl-desk"},
            "callLinkConfigId": config["id"],
        },
    )
    calls = httpx.Client(base_url=stack.url, headers=stack.headers, timeout=15)
    errors: list[str] = []
    try:
        async with chromium(microphone) as browser:
            page = await open_link(browser, link["url"], errors)
            assert await page.locator("#name-field").is_hidden()  # the link names its user
            await page.click("#start-audio")

            # the application learns of the call at its webhook, from the link's identity
            received = None
            for _ in range(150):
                found = [r.event for r in receiver.accepted("/events") if r.event["type"] == "CALL_RECEIVED"]
                if found:
                    received = found[0]
                    break
                await asyncio.sleep(0.2)
            assert received is not None, [r.path for r in receiver.all()]
            assert received["callsConfigurationId"] == "cl-desk"
            call_id = received["callId"]
            assert received["properties"]["call"]["from"] == "cl-customer", received

            # the application answers and says a sentence; the page hears speech
            assert (await asyncio.to_thread(calls.post, f"/calls/1/calls/{call_id}/answer")).status_code == 200
            (established,) = await page_events(page, "established")
            assert established["id"] == call_id
            said = await asyncio.to_thread(
                calls.post, f"/calls/1/calls/{call_id}/say", json={"text": SENTENCE, "language": "en"}
            )
            assert said.status_code == 200, said.text
            await page.wait_for_function(f"({INBOUND_AUDIO})().then(a => a !== null)", timeout=15_000)
            before = await page.evaluate(INBOUND_AUDIO)
            await asyncio.sleep(1.5)
            after = await page.evaluate(INBOUND_AUDIO)
            assert after["bytes"] - before["bytes"] > 1000 and after["energy"] - before["energy"] > 0.005, after

            assert (await asyncio.to_thread(calls.post, f"/calls/1/calls/{call_id}/hangup")).status_code == 200
            await page_events(page, "hangup")
            event, _ = await status_event(receiver, "/desk")
            schema_validator(WEBRTC_DOC, "WebhookEventPayload")(event)
            assert event["callDetails"]["type"] == "APPLICATION"
            assert event["callDetails"]["caller"]["callId"] == call_id
            assert event["callDetails"]["caller"]["endpoint"]["identity"] == "cl-customer"
            assert errors == []
    finally:
        calls.close()
