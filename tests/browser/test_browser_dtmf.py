"""DTMF from a browser: headless Chromium (the JS SDK, loaded from the API) takes a call an application placed with
the Calls API, the application captures digits, and the page presses keys with `call.sendDTMF` — RFC 4733
telephone-events from `RTCRtpSender.dtmf.insertDTMF`, which Chromium only allows because the node negotiated
telephone-event. The digits reach the application as DTMF_CAPTURED at its webhook."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.browser.chromium import unavailable
from tests.browser.conftest import Tab
from tests.browser.harness import webrtc_token
from tests.support.payloads import subscription
from tests.support.receiver import Receiver
from tests.support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]

EVENTS = ["CALL_STARTED", "CALL_ESTABLISHED", "CALL_FINISHED", "CALL_FAILED", "DTMF_CAPTURED", "ERROR"]

# A client of the page's own: it takes the application's incoming call and keeps it where the test can press keys.
TAKE_CALLS = """async ([api, nodeUrl, token]) => {
  const sdk = await import(`${api}/sdk/v1/switchboard-rtc.js`);
  const rtc = sdk.createSwitchboardRtc(token, { nodeUrl });
  window.keypad = { call: null, events: [] };
  rtc.on("incoming-application-call", ({ incomingCall }) => {
    window.keypad.call = incomingCall;
    window.keypad.events.push(`from ${incomingCall.callsConfigurationId()}`);
    for (const name of ["established", "hangup", "error"]) {
      incomingCall.on(name, () => window.keypad.events.push(name));
    }
    incomingCall.accept({ remoteAudioElement: document.getElementById("remote-audio") });
  });
  await rtc.connect();
  return rtc.connectedUser().identity;
}"""

PRESS = """async (digits) => {
  try {
    await window.keypad.call.sendDTMF(digits);
    return { ok: true };
  } catch (error) {
    return { error: error.errorCode ? error.errorCode.name : String(error) };
  }
}"""


async def webhook_event(receiver: Receiver, call_id: str, kind: str, timeout: float = 20) -> dict[str, Any]:
    for _ in range(int(timeout / 0.1)):
        for request in receiver.accepted():
            if request.event["callId"] == call_id and request.event["type"] == kind:
                return request.event
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} for {call_id}: {[r.event['type'] for r in receiver.accepted()]}")


@pytest.mark.asyncio
async def test_a_browser_presses_keys_with_send_dtmf_and_the_application_captures_them(stack: Stack, tab: Tab) -> None:
    api = httpx.Client(base_url=stack.url, headers=stack.headers, timeout=15)
    receiver = Receiver().start()

    async def post(path: str, body: dict[str, Any]) -> httpx.Response:
        return await asyncio.to_thread(api.post, path, json=body)

    try:
        assert (await post("/calls/1/configurations", {"id": "keypad", "name": "Keypad"})).status_code == 201
        hook = subscription(
            "keypad-events", f"{receiver.url}/events", EVENTS, criteria=[{"callsConfigurationId": "keypad"}]
        )
        assert (await post("/subscriptions/1/subscription/VOICE_VIDEO", hook)).status_code == 201
        identity = await tab.page.evaluate(
            TAKE_CALLS, [stack.url, stack.ready["mediaUrl"], webrtc_token(stack, "frank")]
        )
        assert identity == "frank"

        created = await post(
            "/calls/1/calls", {"endpoint": {"type": "WEBRTC", "identity": "frank"}, "callsConfigurationId": "keypad"}
        )
        assert created.status_code == 201, created.text
        call_id = created.json()["id"]
        await tab.page.wait_for_function(
            "window.keypad.events.includes('established') && window.keypad.call.peerConnection()"
            " && window.keypad.call.peerConnection().connectionState === 'connected'",
            timeout=15_000,
        )
        assert await tab.page.evaluate("window.keypad.events[0]") == "from keypad"  # an application's call
        assert await tab.page.evaluate(PRESS, "12x") == {"error": "INVALID_REQUEST"}

        capture = {"maxLength": 6, "timeout": 10000, "terminator": "#", "digitTimeout": 5000}
        assert (await post(f"/calls/1/calls/{call_id}/capture/dtmf", capture)).status_code == 200
        assert await tab.page.evaluate(PRESS, "123#") == {"ok": True}
        captured = (await webhook_event(receiver, call_id, "DTMF_CAPTURED"))["properties"]
        assert (captured["dtmf"], captured["timeout"]) == ("123", False)

        # events, not tones (Chromium puts no tone in the audio): the node's answer has telephone-event, and the
        # sender has sent every digit
        sent = await tab.page.evaluate(
            "(() => { const pc = window.keypad.call.peerConnection(); const s = pc.getSenders().find((x) => x.dtmf);"
            " return { answered: /telephone-event\\/48000/.test(pc.remoteDescription.sdp),"
            " canInsert: s.dtmf.canInsertDTMF, left: s.dtmf.toneBuffer }; })()"
        )
        assert sent == {"answered": True, "canInsert": True, "left": ""}

        assert (await post(f"/calls/1/calls/{call_id}/hangup", {})).status_code == 200
        await tab.page.wait_for_function("window.keypad.events.includes('hangup')", timeout=10_000)
        assert not [error for error in tab.errors if "DTMF" in error], tab.errors
    finally:
        receiver.stop()
        api.close()
