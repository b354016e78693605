"""The WebRTC recording rules applied to this node's 1:1 calls; `chalicelib.webrtc.recording_rules` decides, this
module gathers the inputs and acts.

- When a 1:1 call is established, each party's token (`capabilities.recording`, the `rec` claim) and its SDK option
  (`recordingOptions.recordingType`: the caller's on `call`, the callee's on `accept`) and the account's setting
  (`/accounts/1/recording-settings`, read through `chalicelib.accounts.service` in a thread) give the call's
  decision. When it is a recording, both parties are recorded ("if any participant's token triggers recording, all
  participants are recorded"): scope CALL keyed by the caller's leg (as a recording started through the Calls API
  on `call.id` is), composed or one file per party as the account's `autoCompose` says. It ends with the call.
- A recording asked for later through the Calls API (`StartRecordingRequest.onDemand`, either leg of the call) is
  allowed only when some party's token allows recording (ALWAYS or ON_DEMAND) and the account has WebRTC recording
  enabled, and as AUDIO_AND_VIDEO only when the account's mediaType allows it; otherwise it is refused (409 in
  Infobip's envelope, through the control plane). A recording already running on the other leg is refused too.
- Application calls (`callApplication`, and the calls an application places to an identity) are not under these
  rules: their application records them through the Calls API (Infobip's ApplicationCallOptions has no
  `recordingOptions`, and the application is the party that decides).

The account's setting is read at most once per SETTINGS_TTL_SECONDS per account, so a burst of calls costs one read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from chalicelib.contract.control import StartRecordingRequest
from chalicelib.webrtc.recording_rules import (
    AccountWebrtcRecording,
    ParticipantRecording,
    RecordingDecision,
    TokenRecording,
    call_decision,
    recording_type,
)
from switchboard_media.calls import ActiveCall, CallError, CallManager
from switchboard_media.recording.manager import Recordings

log = logging.getLogger(__name__)
SETTINGS_TTL_SECONDS = 5.0
PERMITTING = ("ALWAYS", "ON_DEMAND")


@dataclass(frozen=True)
class AccountRecording:
    """What the rules read from the account's configuration."""

    webrtc: AccountWebrtcRecording
    auto_compose: bool


def read_account_recording(account_id: str) -> AccountRecording:
    from chalicelib.accounts import service

    settings = service.recording_settings(account_id)
    webrtc = AccountWebrtcRecording(settings.webrtcRecording.enabled, settings.webrtcRecording.mediaType)
    return AccountRecording(webrtc, settings.autoCompose)


def participants(call: ActiveCall) -> list[ParticipantRecording]:
    """Each party's token capability and SDK option (the callee's once it has answered)."""
    parties = [(call.caller, call.caller_leg), (call.callee, call.callee_leg)]
    return [
        ParticipantRecording(
            cast(TokenRecording | None, session.recording), call.recording_options.get(leg, "UNDEFINED")
        )
        for session, leg in parties
        if session is not None
    ]


class WebrtcRecordingRules:
    def __init__(
        self,
        calls: CallManager,
        recordings: Recordings,
        read: Callable[[str], AccountRecording] = read_account_recording,
        ttl_seconds: float = SETTINGS_TTL_SECONDS,
    ) -> None:
        self._calls = calls
        self._recordings = recordings
        self._read = read
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, AccountRecording]] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        calls.established_hooks.append(self._established)
        recordings.start_checks.append(self.check)

    async def account(self, account_id: str) -> AccountRecording:
        cached = self._cache.get(account_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        value = await asyncio.to_thread(self._read, account_id)
        self._cache[account_id] = (time.monotonic() + self._ttl, value)
        return value

    async def decision(self, call: ActiveCall) -> tuple[RecordingDecision, AccountRecording]:
        account = await self.account(call.account_id)
        return call_decision(account.webrtc, participants(call)), account

    # --- a call is established: record it when the rules say so ------------------------------------------------

    def _established(self, call: ActiveCall) -> None:
        task = asyncio.ensure_future(self._record_if_due(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record_if_due(self, call: ActiveCall) -> None:
        try:
            decision, account = await self.decision(call)
            kind = recording_type(decision)
            if kind is None or call.ended:
                return
            request = StartRecordingRequest(
                accountId=call.account_id,
                scope="CALL",
                scopeId=call.caller_leg,
                recordingType=kind,
                composition=account.auto_compose,
            )
            await self._recordings.start(request)
            log.info("call %s recorded by the WebRTC recording rules (%s)", call.caller_leg, kind)
        except CallError as error:  # ended meanwhile, or recording already
            log.info("the WebRTC recording rules could not record call %s: %s", call.caller_leg, error.text)
        except Exception:
            log.exception("the WebRTC recording rules could not record call %s", call.caller_leg)

    # --- the Calls API asks to record a 1:1 call: allowed only as the rules allow ------------------------------

    async def check(self, request: StartRecordingRequest) -> None:
        if not request.onDemand or request.scope != "CALL":
            return
        call = self._calls.call_of(request.scopeId)
        if call is None:
            return  # not a 1:1 call on this node (an application's call, or gone: the recorder says which)
        account = await self.account(request.accountId)
        if not account.webrtc.enabled:
            raise CallError("RECORDING_NOT_PERMITTED", "WebRTC call recording is disabled for this account")
        if not any(party.token in PERMITTING for party in participants(call)):
            raise CallError(
                "RECORDING_NOT_PERMITTED", "no participant's token allows recording (capabilities.recording)"
            )
        if request.recordingType == "AUDIO_AND_VIDEO" and account.webrtc.media_type == "AUDIO":
            raise CallError("RECORDING_NOT_PERMITTED", "the account records WebRTC calls as AUDIO only")
        other = call.callee_leg if request.scopeId == call.caller_leg else call.caller_leg
        if self._recordings.active("CALL", other) is not None:
            raise CallError("WRONG_STATE", "the call is recording already: stop it first")

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
