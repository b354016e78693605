"""Whether a WebRTC call is recorded, and how: the account's setting x the token's `capabilities.recording` x the
SDK's call option (`RecordingOptions.recordingType`). Pure rules; no I/O.

Sources, and where they stop:
- Infobip's token reference (https://infobip.com/docs/api/channels/webrtc-calls/webrtc/generate-webrtc-token):
  `capabilities.recording` is ALWAYS, ON_DEMAND or DISABLED, "whether to allow recording calls during the session";
  "if [you] want to set ALWAYS or ON_DEMAND, the capability must be enabled on account level".
- Infobip's JS SDK (infobip-rtc 2.6.1, reference §8.3): a WebRTC or room call's `recordingOptions.recordingType` is
  UNDEFINED, AUDIO or AUDIO_AND_VIDEO.
- Infobip's account-level recording configuration elsewhere in its APIs
  (https://infobip.com/docs/api/customer-engagement/conversations/create-conversations-account-recording-config):
  `enabled` plus `mediaType` AUDIO | AUDIO_AND_VIDEO (plus `autoCompose`, the composition preference).
- Infobip's "Record WebRTC calls" page with the full 36-row table could not be found in the reference corpus, so
  the table below is derived from the three sources above, not copied. Its dimensions are the account setting
  (enabled/disabled x mediaType = 4) x the token (3) x the SDK option (3) = 36 rows.

The table, per participant (`participant_decision`):

    account disabled                          → NO_RECORDING, whatever the token and the SDK say
    token DISABLED (or no capability)         → NO_RECORDING
    token ALWAYS,    SDK UNDEFINED            → the account's mediaType
    token ALWAYS,    SDK AUDIO | AUDIO_AND_VIDEO → what the SDK asks, capped at the account's mediaType
    token ON_DEMAND, SDK UNDEFINED            → NO_RECORDING (nobody asked)
    token ON_DEMAND, SDK AUDIO | AUDIO_AND_VIDEO → what the SDK asks, capped at the account's mediaType

"Capped" means an account whose mediaType is AUDIO records a request for AUDIO_AND_VIDEO as AUDIO.

Per call (`call_decision`): if any participant's decision is a recording, every participant of the call is
recorded, with the richest type any participant's decision asks for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

RecordingType = Literal["AUDIO", "AUDIO_AND_VIDEO"]
SdkRecordingType = Literal["UNDEFINED", "AUDIO", "AUDIO_AND_VIDEO"]
TokenRecording = Literal["ALWAYS", "ON_DEMAND", "DISABLED"]
RecordingDecision = Literal["NO_RECORDING", "AUDIO", "AUDIO_AND_VIDEO"]

NO_RECORDING: RecordingDecision = "NO_RECORDING"
_RANK: dict[RecordingDecision, int] = {"NO_RECORDING": 0, "AUDIO": 1, "AUDIO_AND_VIDEO": 2}
_REQUESTED: dict[SdkRecordingType, RecordingType | None] = {
    "UNDEFINED": None,
    "AUDIO": "AUDIO",
    "AUDIO_AND_VIDEO": "AUDIO_AND_VIDEO",
}
_TYPES: dict[RecordingDecision, RecordingType | None] = {
    "NO_RECORDING": None,
    "AUDIO": "AUDIO",
    "AUDIO_AND_VIDEO": "AUDIO_AND_VIDEO",
}


@dataclass(frozen=True)
class AccountWebrtcRecording:
    """The account's WebRTC recording setting (its configuration API: `/accounts/1/recording-settings`)."""

    enabled: bool = False
    media_type: RecordingType = "AUDIO"


@dataclass(frozen=True)
class ParticipantRecording:
    """One participant's inputs: their token's capability (None when the token set none) and their SDK option."""

    token: TokenRecording | None
    sdk: SdkRecordingType = "UNDEFINED"


def _capped(requested: RecordingType, account: AccountWebrtcRecording) -> RecordingDecision:
    return "AUDIO" if account.media_type == "AUDIO" else requested


def participant_decision(
    account: AccountWebrtcRecording, token: TokenRecording | None, sdk: SdkRecordingType
) -> RecordingDecision:
    """One row of the table."""
    capability = token or "DISABLED"
    if not account.enabled or capability == "DISABLED":
        return NO_RECORDING
    requested = _REQUESTED[sdk]
    if requested is not None:
        return _capped(requested, account)
    return account.media_type if capability == "ALWAYS" else NO_RECORDING


def call_decision(account: AccountWebrtcRecording, participants: Iterable[ParticipantRecording]) -> RecordingDecision:
    """The decision for the whole call, applied to every participant: the richest any participant triggers."""
    decisions = [participant_decision(account, p.token, p.sdk) for p in participants]
    return max(decisions, key=_RANK.__getitem__, default=NO_RECORDING)


def recording_type(decision: RecordingDecision) -> RecordingType | None:
    """The Calls API's `recordingType` for a decision, or None when nothing is recorded."""
    return _TYPES[decision]
