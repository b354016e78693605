"""Account recording settings (`/accounts/1/recording-settings`): defaults, replacement, the WebRTC setting the
recording table reads, validation and tenant isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.accounts import service
from chalicelib.webrtc.recording_rules import AccountWebrtcRecording, participant_decision
from tests.support.envelope import assert_envelope
from tests.support.payloads import JSON, dumps

SETTINGS = "/accounts/1/recording-settings"
DEFAULTS = {"webrtcRecording": {"enabled": False, "mediaType": "AUDIO"}, "autoCompose": False}


def put(client, account, body: Any):
    return client.put(SETTINGS, headers={**account.headers, **JSON}, body=dumps(body))


def body_of(response) -> dict[str, Any]:
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def test_an_account_starts_with_webrtc_recording_off(client, account):
    assert body_of(client.get(SETTINGS, headers=account.headers)) == DEFAULTS
    assert service.webrtc_recording(account.account_id) == AccountWebrtcRecording(enabled=False, media_type="AUDIO")
    assert service.auto_compose(account.account_id) is False


def test_a_put_replaces_the_settings_and_they_are_read_back(client, account):
    wanted = {"webrtcRecording": {"enabled": True, "mediaType": "AUDIO_AND_VIDEO"}, "autoCompose": True}
    saved = body_of(put(client, account, wanted))
    assert {k: v for k, v in saved.items() if k != "updatedAt"} == wanted and saved["updatedAt"]
    assert body_of(client.get(SETTINGS, headers=account.headers)) == saved
    assert service.auto_compose(account.account_id) is True

    # fields left out take their defaults: a PUT replaces the whole document
    partial = body_of(put(client, account, {"webrtcRecording": {"enabled": True}}))
    assert partial["webrtcRecording"] == {"enabled": True, "mediaType": "AUDIO"} and partial["autoCompose"] is False


def test_the_recording_table_follows_the_accounts_setting(client, account):
    policy = service.webrtc_recording(account.account_id)
    assert participant_decision(policy, "ALWAYS", "AUDIO_AND_VIDEO") == "NO_RECORDING"

    put(client, account, {"webrtcRecording": {"enabled": True, "mediaType": "AUDIO"}})
    policy = service.webrtc_recording(account.account_id)
    assert participant_decision(policy, "ALWAYS", "AUDIO_AND_VIDEO") == "AUDIO"

    put(client, account, {"webrtcRecording": {"enabled": True, "mediaType": "AUDIO_AND_VIDEO"}})
    policy = service.webrtc_recording(account.account_id)
    assert participant_decision(policy, "ALWAYS", "AUDIO_AND_VIDEO") == "AUDIO_AND_VIDEO"


def test_one_accounts_settings_do_not_touch_another(client, account, other_account):
    put(client, account, {"webrtcRecording": {"enabled": True, "mediaType": "AUDIO_AND_VIDEO"}, "autoCompose": True})
    assert body_of(client.get(SETTINGS, headers=other_account.headers)) == DEFAULTS
    put(client, other_account, {"autoCompose": True})
    assert body_of(client.get(SETTINGS, headers=account.headers))["webrtcRecording"]["enabled"] is True
    assert service.webrtc_recording(other_account.account_id).enabled is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"webrtcRecording": {"enabled": "true"}}, "webrtcRecording.enabled"),
        ({"webrtcRecording": {"enabled": True, "mediaType": "VIDEO"}}, "webrtcRecording.mediaType"),
        ({"webrtcRecording": {"mediaType": "audio"}}, "webrtcRecording.mediaType"),
        ({"webrtcRecording": "ALWAYS"}, "webrtcRecording"),
        ({"autoCompose": 1}, "autoCompose"),
        ({"autocompose": True}, "autocompose"),
        ({"webrtcRecording": {"enabled": True, "capability": "ALWAYS"}}, "webrtcRecording.capability"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, account, body, field):
    exception = assert_envelope(put(client, account, body), 400, "BAD_REQUEST")
    assert field in exception["validationErrors"], exception
    assert body_of(client.get(SETTINGS, headers=account.headers)) == DEFAULTS


@pytest.mark.parametrize("raw", ["", "nope", "[]"])
def test_a_body_that_is_not_a_json_object_is_a_400(client, account, raw):
    assert_envelope(client.put(SETTINGS, headers={**account.headers, **JSON}, body=raw), 400, "BAD_REQUEST")


def test_credentials_are_required_and_other_methods_are_refused(client, account):
    assert_envelope(client.get(SETTINGS), 401, "UNAUTHORIZED")
    assert_envelope(client.put(SETTINGS, headers=JSON, body=dumps(DEFAULTS)), 401, "UNAUTHORIZED")
    assert_envelope(client.delete(SETTINGS, headers=account.headers), 405, "METHOD_NOT_ALLOWED")
