"""The control plane's client for a media node's internal API (signed requests, the contract's bodies)."""

from __future__ import annotations

import base64
import time

import httpx

from chalicelib.contract import control
from chalicelib.core.settings import key_material

CALL_ACTIONS = frozenset(
    {"send-ringing", "pre-answer", "answer", "play", "stop-play", "capture-dtmf", "send-dtmf"}
    | {"start-media-stream", "stop-media-stream"}
    | {"application-transfer"}  # times a transfer (chalicelib.calls.transfers)
    | {"broadcast-text"}  # text from the application to the call's SDK
)


CONFERENCE_ACTIONS = frozenset({"join", "leave", "update", "play", "stop-play", "hangup"})
DIALOG_ACTIONS = frozenset({"open", "abandon", "play", "stop-play", "hangup"})


class MediaNodeError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"media node answered {status}: {body[:200]}")
        self.status = status
        self.body = body


class MediaNodeClient:
    """Internal URLs are the platform's own (private) addresses, so this client does not go through the outbound
    URL policy that guards customer-supplied URLs."""

    def __init__(self, internal_url: str, key: bytes | None = None, timeout: float = 5.0) -> None:
        self._base = internal_url.rstrip("/")
        self._key = key if key is not None else base64.b64decode(key_material("controlKey"))
        self._timeout = timeout

    def _request(self, method: str, path: str, body: bytes = b"") -> httpx.Response:
        full_path = f"{control.CONTROL_PREFIX}{path}"
        headers = control.signed_headers(self._key, int(time.time()), method, full_path, body)
        if body:
            headers["Content-Type"] = "application/json"
        response = httpx.request(
            method, f"{self._base}{full_path}", content=body, headers=headers, timeout=self._timeout, trust_env=False
        )
        if response.status_code >= 400:
            raise MediaNodeError(response.status_code, response.text)
        return response

    def status(self) -> control.NodeStatus:
        return control.NodeStatus.model_validate_json(self._request("GET", "/status").content)

    def dial(
        self,
        call_id: str,
        account_id: str,
        identity: str,
        calls_configuration_id: str,
        *,
        from_identity: str | None = None,
        from_display_name: str | None = None,
        video: bool = False,
        connect_timeout: int = 60,
        custom_data: dict[str, str] | None = None,
        conference_id: str | None = None,
        conference_ends_at: float | None = None,
        max_duration: int | None = None,
    ) -> control.ActionResult:
        """Ring `identity`'s devices on this node; MediaNodeError 404 when it has none here."""
        body = control.DialRequest(
            callId=call_id,
            accountId=account_id,
            identity=identity,
            fromIdentity=from_identity,
            fromDisplayName=from_display_name,
            callsConfigurationId=calls_configuration_id,
            video=video,
            connectTimeoutSeconds=connect_timeout,
            customData=custom_data,
            conferenceId=conference_id,
            conferenceEndsAt=conference_ends_at,
            maxDurationSeconds=max_duration,
        )
        response = self._request("POST", "/calls", body.model_dump_json().encode())
        return control.ActionResult.model_validate_json(response.content)

    def action(self, call_id: str, action: str, request: control._Body | None = None) -> control.ActionResult:
        """POST an action on a call with its contract body: `send-ringing`, `pre-answer`, `answer` (no body),
        `play`, `stop-play`, `capture-dtmf`, `send-dtmf`, `start-media-stream`, `stop-media-stream`."""
        if action not in CALL_ACTIONS:
            raise ValueError(f"unknown action {action}")
        body = request.model_dump_json(exclude_none=True).encode() if request is not None else b""
        return control.ActionResult.model_validate_json(
            self._request("POST", f"/calls/{call_id}/{action}", body).content
        )

    def play(self, call_id: str, request: control.PlayRequest) -> control.ActionResult:
        return self.action(call_id, "play", request)

    def stop_play(self, call_id: str) -> control.ActionResult:
        return self.action(call_id, "stop-play", None)

    def capture_dtmf(self, call_id: str, request: control.CaptureDtmfRequest) -> control.ActionResult:
        return self.action(call_id, "capture-dtmf", request)

    def send_dtmf(self, call_id: str, request: control.SendDtmfRequest) -> control.ActionResult:
        return self.action(call_id, "send-dtmf", request)

    def conference(self, conference_id: str, action: str, request: control._Body) -> control.ActionResult:
        """POST an action on a conference this node mixes: `join`, `leave`, `update`, `play`, `stop-play`,
        `hangup`."""
        if action not in CONFERENCE_ACTIONS:
            raise ValueError(f"unknown conference action {action}")
        return self._post(f"/conferences/{conference_id}/{action}", request)

    def dialog(self, dialog_id: str, action: str, request: control._Body) -> control.ActionResult:
        """POST an action on a dialog this node bridges: `open`, `abandon`, `play`, `stop-play`, `hangup`."""
        if action not in DIALOG_ACTIONS:
            raise ValueError(f"unknown dialog action {action}")
        return self._post(f"/dialogs/{dialog_id}/{action}", request)

    def _post(self, path: str, request: control._Body) -> control.ActionResult:
        body = request.model_dump_json(exclude_none=True).encode()
        return control.ActionResult.model_validate_json(self._request("POST", path, body).content)

    def hangup(self, call_id: str, error_code: str = "NORMAL_HANGUP") -> control.ActionResult:
        body = control.HangupRequest(errorCode=error_code).model_dump_json().encode()
        return control.ActionResult.model_validate_json(self._request("POST", f"/calls/{call_id}/hangup", body).content)
