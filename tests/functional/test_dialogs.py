"""Dialogs on moto: the record and its events (DIALOG_CREATED / ESTABLISHED / FINISHED / FAILED) as the API and the
media node write them, the calls' `dialogId`, the REST reads with Infobip's schemas, and the refusals (a third
party, finished, unknown, another account, endpoints without a trunk). The bridge itself is tested on a real node
in tests/media/test_dialogs.py and end to end in tests/integration/test_dialogs_client.py."""

from __future__ import annotations

import pytest

from chalicelib.calls import repository as calls_repository
from chalicelib.calls import service as calls
from chalicelib.calls.service import get_call, to_infobip
from chalicelib.conferences import service as conferences
from chalicelib.core.errors import Conflict
from chalicelib.dialogs import service
from tests.functional.test_conferences import answered, body_of, outbox, send, types
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator, schema_validator

DOC = "infobip-voice-openapi.json"
BASE = "/calls/1/dialogs"


def test_a_dialog_is_created_established_finished_and_read_with_infobips_schemas(client, account, configuration):
    acc = account.account_id
    ann, ben = get_call(acc, answered(acc, "ann")), get_call(acc, answered(acc, "ben"))
    record = service.create(acc, ann, ben, max_duration=600, node_id=None)
    dialog_id = record.dialog_id
    assert types(acc, dialog_id) == ["DIALOG_CREATED"]
    (created,) = outbox(acc, dialog_id)
    assert created["dialogId"] == dialog_id and created["callsConfigurationId"] == "conf-app"
    schema_validator(DOC, "DialogCreatedProperties")(created["properties"])
    dialog = created["properties"]["dialog"]
    assert (dialog["state"], dialog["parentCall"]["id"], dialog["childCall"]["id"]) == (
        "CREATED",
        ann.call_id,
        ben.call_id,
    )
    assert dialog["childCall"]["dialogId"] == dialog_id
    assert to_infobip(get_call(acc, ben.call_id))["dialogId"] == dialog_id

    service.pre_established(acc, dialog_id)  # no event: Infobip has none
    service.established(acc, dialog_id)
    service.established(acc, dialog_id)  # reported twice, recorded once
    assert types(acc, dialog_id) == ["DIALOG_CREATED", "DIALOG_ESTABLISHED"]
    schema_validator(DOC, "DialogProperties")(outbox(acc, dialog_id)[-1]["properties"])

    live = body_of(client.get(f"{BASE}?parentCallId={ann.call_id}", headers=account.headers))
    response_validator(DOC, "GET", BASE, 200)(live)
    assert [(d["id"], d["state"]) for d in live["results"]] == [(dialog_id, "ESTABLISHED")]
    one = body_of(client.get(f"{BASE}/{dialog_id}", headers=account.headers))
    response_validator(DOC, "GET", f"{BASE}/{{dialogId}}", 200)(one)
    in_it = body_of(client.get(f"/calls/1/calls?dialogId={dialog_id}", headers=account.headers))
    assert sorted(c["id"] for c in in_it["results"]) == sorted([ann.call_id, ben.call_id])
    assert_envelope(client.get(f"{BASE}/{dialog_id}/history", headers=account.headers), 404, "NOT_FOUND")

    service.ended(acc, dialog_id, "NORMAL_HANGUP", "CHILD_ENDPOINT")
    service.ended(acc, dialog_id, "NORMAL_HANGUP", "PARENT_ENDPOINT")  # the second call's end changes nothing
    assert types(acc, dialog_id) == ["DIALOG_CREATED", "DIALOG_ESTABLISHED", "DIALOG_FINISHED"]
    finished = outbox(acc, dialog_id)[-1]["properties"]
    schema_validator(DOC, "DialogWithErrorCodeProperties")(finished)
    assert (finished["errorCode"]["name"], finished["hangupSource"]) == ("NORMAL_HANGUP", "CHILD_ENDPOINT")

    assert body_of(client.get(BASE, headers=account.headers))["results"] == []
    history = body_of(client.get(f"{BASE}/history?state=FINISHED", headers=account.headers))
    response_validator(DOC, "GET", f"{BASE}/history", 200)(history)
    assert [d["dialogId"] for d in history["results"]] == [dialog_id]
    log = body_of(client.get(f"{BASE}/{dialog_id}/history", headers=account.headers))
    response_validator(DOC, "GET", f"{BASE}/{{dialogId}}/history", 200)(log)
    assert (log["parentCallId"], log["childCallId"], log["hangupSource"]) == (
        ann.call_id,
        ben.call_id,
        "CHILD_ENDPOINT",
    )
    assert_envelope(client.post(f"{BASE}/{dialog_id}/hangup", headers=account.headers), 409, "CONFLICT")


def test_a_dialog_that_never_connects_fails_and_its_calls_can_take_a_new_dialog(account, configuration):
    acc = account.account_id
    ann, ben = get_call(acc, answered(acc, "ann")), get_call(acc, answered(acc, "ben"))
    first = service.create(acc, ann, ben, max_duration=600, node_id=None)
    service.ended(acc, first.dialog_id, "NO_ANSWER", "CHILD_ENDPOINT", failed=True)
    assert types(acc, first.dialog_id)[-1] == "DIALOG_FAILED"
    failed = outbox(acc, first.dialog_id)[-1]["properties"]
    assert (failed["dialog"]["state"], failed["errorCode"]["name"]) == ("FAILED", "NO_ANSWER")

    second = service.create(acc, get_call(acc, ann.call_id), get_call(acc, ben.call_id), max_duration=600, node_id=None)
    assert get_call(acc, ann.call_id).dialog_id == second.dialog_id


def test_a_dialog_never_takes_a_third_party(client, account, configuration):
    acc = account.account_id
    ann, ben, cat = (get_call(acc, answered(acc, name)) for name in ("ann", "ben", "cat"))
    record = service.create(acc, ann, ben, max_duration=600, node_id=None)
    with pytest.raises(Conflict):  # not a second dialog
        service.create(acc, get_call(acc, cat.call_id), get_call(acc, ben.call_id), max_duration=600, node_id=None)
    with pytest.raises(Conflict):  # stale reads of the legs lose to the condition on the leg
        service.create(acc, cat, ben, max_duration=600, node_id=None)
    conference = conferences.create(acc, configuration, name="c")
    response = send(
        client, "PUT", f"/calls/1/conferences/{conference.conference_id}/call/{ann.call_id}", account.headers, {}
    )
    assert_envelope(response, 409, "CONFLICT")
    assert "dialog" in response.json_body["requestError"]["serviceException"]["text"]
    response = send(client, "POST", f"{BASE}/parent-call/{cat.call_id}/child-call/{ben.call_id}", account.headers, {})
    assert_envelope(response, 409, "CONFLICT")

    # a call in a conference cannot be in a dialog either
    conferences.add_participant(acc, conference.conference_id, cat)
    with pytest.raises(Conflict):
        service.create(
            acc, get_call(acc, cat.call_id), get_call(acc, answered(acc, "dan")), max_duration=60, node_id=None
        )
    assert get_call(acc, ann.call_id).dialog_id == record.dialog_id


def test_bad_dialog_requests_are_clear_4xx_and_another_account_sees_nothing(
    client, account, other_account, configuration
):
    acc = account.account_id
    ann = answered(acc, "ann")
    child = {"endpoint": {"type": "WEBRTC", "identity": "ben"}}
    cases = [
        ({"parentCallId": "no-such-call", "childCallRequest": child}, 404, "NOT_FOUND"),
        (
            {"parentCallId": ann, "childCallRequest": {"endpoint": {"type": "PHONE", "phoneNumber": "41793026727"}}},
            400,
            "BAD_REQUEST",
        ),
        ({"parentCallId": ann, "childCallRequest": child, "recording": {"recordingType": "VIDEO"}}, 400, "BAD_REQUEST"),
        ({"parentCallId": ann, "childCallRequest": child, "maxDuration": 0}, 400, "BAD_REQUEST"),
        ({"parentCallId": ann}, 400, "BAD_REQUEST"),
        ({"parentCallId": ann, "childCallRequest": child}, 503, "SERVICE_UNAVAILABLE"),  # no media node has the call
    ]
    for body, status, message_id in cases:
        assert_envelope(send(client, "POST", BASE, account.headers, body), status, message_id)
    assert types(acc, ann)[-1] == "CALL_ESTABLISHED"  # nothing was started for the refused requests
    assert [c for c in calls_repository.of_account(acc) if c.to == "ben"] == []

    # a finished parent, the same call twice, a call of another account
    calls.hangup(acc, ann)
    response = send(client, "POST", BASE, account.headers, {"parentCallId": ann, "childCallRequest": child})
    assert_envelope(response, 409, "CONFLICT")
    ben = answered(acc, "ben")
    response = send(client, "POST", f"{BASE}/parent-call/{ben}/child-call/{ben}", account.headers, {})
    assert_envelope(response, 409, "CONFLICT")
    response = send(client, "POST", f"{BASE}/parent-call/{ben}/child-call/{ben}", other_account.headers, {})
    assert_envelope(response, 404, "NOT_FOUND")

    record = service.create(acc, get_call(acc, ben), get_call(acc, answered(acc, "cat")), max_duration=60, node_id=None)
    for method, path, body in (
        ("GET", f"{BASE}/{record.dialog_id}", None),
        ("POST", f"{BASE}/{record.dialog_id}/hangup", None),
        ("POST", f"{BASE}/{record.dialog_id}/say", {"text": "hi", "language": "en"}),
        ("POST", f"{BASE}/{record.dialog_id}/broadcast-webrtc-text", {"text": "hi"}),
    ):
        response = (
            send(client, method, path, other_account.headers, body)
            if body
            else client.request(method, path, headers=other_account.headers)
        )
        assert_envelope(response, 404, "NOT_FOUND")
    assert body_of(client.get(BASE, headers=other_account.headers))["results"] == []
    # the dialog is CREATED (its child never answered): nothing plays into it yet
    response = send(client, "POST", f"{BASE}/{record.dialog_id}/say", account.headers, {"text": "hi", "language": "en"})
    assert_envelope(response, 409, "CONFLICT")
    assert_envelope(client.get(f"{BASE}?state=RINGING", headers=account.headers), 400, "BAD_REQUEST")
