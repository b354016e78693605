"""The WebRTC recording table: account setting x token `capabilities.recording` x SDK `recordingType`, all 36 rows
written out literally (see `chalicelib.webrtc.recording_rules` for where the table comes from), and the rule that
one participant's token records every participant of the call."""

from __future__ import annotations

import itertools

import pytest

from chalicelib.webrtc.recording_rules import (
    AccountWebrtcRecording,
    ParticipantRecording,
    RecordingDecision,
    call_decision,
    participant_decision,
    recording_type,
)

OFF_AUDIO = AccountWebrtcRecording(enabled=False, media_type="AUDIO")
OFF_VIDEO = AccountWebrtcRecording(enabled=False, media_type="AUDIO_AND_VIDEO")
ON_AUDIO = AccountWebrtcRecording(enabled=True, media_type="AUDIO")
ON_VIDEO = AccountWebrtcRecording(enabled=True, media_type="AUDIO_AND_VIDEO")
ACCOUNTS = {
    "off/AUDIO": OFF_AUDIO,
    "off/AUDIO_AND_VIDEO": OFF_VIDEO,
    "on/AUDIO": ON_AUDIO,
    "on/AUDIO_AND_VIDEO": ON_VIDEO,
}

NO: RecordingDecision = "NO_RECORDING"
AUDIO: RecordingDecision = "AUDIO"
AV: RecordingDecision = "AUDIO_AND_VIDEO"

# account setting,       token,       SDK option,        outcome
TABLE = [
    ("off/AUDIO",           "DISABLED",  "UNDEFINED",       NO),
    ("off/AUDIO",           "DISABLED",  "AUDIO",           NO),
    ("off/AUDIO",           "DISABLED",  "AUDIO_AND_VIDEO", NO),
    ("off/AUDIO",           "ALWAYS",    "UNDEFINED",       NO),
    ("off/AUDIO",           "ALWAYS",    "AUDIO",           NO),
    ("off/AUDIO",           "ALWAYS",    "AUDIO_AND_VIDEO", NO),
    ("off/AUDIO",           "ON_DEMAND", "UNDEFINED",       NO),
    ("off/AUDIO",           "ON_DEMAND", "AUDIO",           NO),
    ("off/AUDIO",           "ON_DEMAND", "AUDIO_AND_VIDEO", NO),
    ("off/AUDIO_AND_VIDEO", "DISABLED",  "UNDEFINED",       NO),
    ("off/AUDIO_AND_VIDEO", "DISABLED",  "AUDIO",           NO),
    ("off/AUDIO_AND_VIDEO", "DISABLED",  "AUDIO_AND_VIDEO", NO),
    ("off/AUDIO_AND_VIDEO", "ALWAYS",    "UNDEFINED",       NO),
    ("off/AUDIO_AND_VIDEO", "ALWAYS",    "AUDIO",           NO),
    ("off/AUDIO_AND_VIDEO", "ALWAYS",    "AUDIO_AND_VIDEO", NO),
    ("off/AUDIO_AND_VIDEO", "ON_DEMAND", "UNDEFINED",       NO),
    ("off/AUDIO_AND_VIDEO", "ON_DEMAND", "AUDIO",           NO),
    ("off/AUDIO_AND_VIDEO", "ON_DEMAND", "AUDIO_AND_VIDEO", NO),
    ("on/AUDIO",            "DISABLED",  "UNDEFINED",       NO),
    ("on/AUDIO",            "DISABLED",  "AUDIO",           NO),
    ("on/AUDIO",            "DISABLED",  "AUDIO_AND_VIDEO", NO),
    ("on/AUDIO",            "ALWAYS",    "UNDEFINED",       AUDIO),
    ("on/AUDIO",            "ALWAYS",    "AUDIO",           AUDIO),
    ("on/AUDIO",            "ALWAYS",    "AUDIO_AND_VIDEO", AUDIO),
    ("on/AUDIO",            "ON_DEMAND", "UNDEFINED",       NO),
    ("on/AUDIO",            "ON_DEMAND", "AUDIO",           AUDIO),
    ("on/AUDIO",            "ON_DEMAND", "AUDIO_AND_VIDEO", AUDIO),
    ("on/AUDIO_AND_VIDEO",  "DISABLED",  "UNDEFINED",       NO),
    ("on/AUDIO_AND_VIDEO",  "DISABLED",  "AUDIO",           NO),
    ("on/AUDIO_AND_VIDEO",  "DISABLED",  "AUDIO_AND_VIDEO", NO),
    ("on/AUDIO_AND_VIDEO",  "ALWAYS",    "UNDEFINED",       AV),
    ("on/AUDIO_AND_VIDEO",  "ALWAYS",    "AUDIO",           AUDIO),
    ("on/AUDIO_AND_VIDEO",  "ALWAYS",    "AUDIO_AND_VIDEO", AV),
    ("on/AUDIO_AND_VIDEO",  "ON_DEMAND", "UNDEFINED",       NO),
    ("on/AUDIO_AND_VIDEO",  "ON_DEMAND", "AUDIO",           AUDIO),
    ("on/AUDIO_AND_VIDEO",  "ON_DEMAND", "AUDIO_AND_VIDEO", AV),
]  # fmt: skip


def test_the_table_covers_every_combination_once():
    assert len(TABLE) == 36
    combinations = {(account, token, sdk) for account, token, sdk, _ in TABLE}
    expected = set(
        itertools.product(ACCOUNTS, ("DISABLED", "ALWAYS", "ON_DEMAND"), ("UNDEFINED", "AUDIO", "AUDIO_AND_VIDEO"))
    )
    assert combinations == expected


@pytest.mark.parametrize(("account", "token", "sdk", "outcome"), TABLE)
def test_each_row_of_the_table(account, token, sdk, outcome):
    assert participant_decision(ACCOUNTS[account], token, sdk) == outcome


@pytest.mark.parametrize("sdk", ["UNDEFINED", "AUDIO", "AUDIO_AND_VIDEO"])
def test_a_token_without_a_capability_is_disabled(sdk):
    assert participant_decision(ON_VIDEO, None, sdk) == NO


def test_the_default_account_setting_records_nothing():
    assert participant_decision(AccountWebrtcRecording(), "ALWAYS", "AUDIO") == NO


def test_one_participants_token_records_every_participant():
    caller = ParticipantRecording(token="DISABLED", sdk="AUDIO_AND_VIDEO")
    callee = ParticipantRecording(token="ALWAYS", sdk="UNDEFINED")
    assert call_decision(ON_AUDIO, [caller, callee]) == AUDIO
    assert call_decision(ON_AUDIO, [callee, caller]) == AUDIO


def test_the_call_is_recorded_with_the_richest_type_any_participant_triggers():
    audio = ParticipantRecording(token="ON_DEMAND", sdk="AUDIO")
    video = ParticipantRecording(token="ALWAYS", sdk="AUDIO_AND_VIDEO")
    quiet = ParticipantRecording(token="DISABLED", sdk="UNDEFINED")
    assert call_decision(ON_VIDEO, [audio, quiet, video]) == AV
    assert call_decision(ON_AUDIO, [audio, quiet, video]) == AUDIO  # the account caps it


def test_nobody_triggering_means_nobody_is_recorded():
    on_demand_without_asking = ParticipantRecording(token="ON_DEMAND", sdk="UNDEFINED")
    asking_without_capability = ParticipantRecording(token="DISABLED", sdk="AUDIO_AND_VIDEO")
    assert call_decision(ON_VIDEO, [on_demand_without_asking, asking_without_capability]) == NO
    assert call_decision(OFF_VIDEO, [ParticipantRecording(token="ALWAYS", sdk="AUDIO")] * 3) == NO
    assert call_decision(ON_VIDEO, []) == NO


def test_decisions_map_to_the_calls_api_recording_type():
    assert recording_type(NO) is None
    assert recording_type(AUDIO) == "AUDIO"
    assert recording_type(AV) == "AUDIO_AND_VIDEO"
