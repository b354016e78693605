"""A call link opened in headless Chromium against the real local stack: the branded page (theme colour and localised
text checked in the DOM, and a screenshot), the user types a name and starts a call, a Python-SDK identity answers,
and a tone goes each way (checked by frequency); hanging up frees the destination for the next caller."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.browser.chromium import MICROPHONE_TONE_HZ, unavailable
from tests.browser.conftest import chromium
from tests.browser.harness import python_hears, webrtc_token
from tests.support.audio import dominant_frequency, rms
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]

AGENT_TONE_HZ = 700
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
    stack: Stack, microphone: Path, tmp_path: Path
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
        },
    )
    link = api(
        stack,
        "POST",
        "/call-link/1/links",
        {
            "destination": {"type": "WEBRTC", "identity": "cl-agent", "displayName": "Agent"},
            "callLinkConfigId": config["id"],
        },
    )
    agent = await RtcClient.connect(stack.ready["mediaUrl"], webrtc_token(stack, "cl-agent"))
    try:
        agent_hears = AudioSink()
        async with chromium(microphone) as browser:
            page = await browser.new_page(viewport={"width": 900, "height": 700})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            # the link's own URL, on the stack's address (the runner's public base URL names port 0 when the API
            # port is chosen by the OS; a deployment's names its real host)
            assert link["url"].endswith(f"/{link['id']}")
            await page.goto(f"{stack.url}/{link['id']}")
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
            await page_events(page, "established")
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
    finally:
        await agent.close()
