"""Conferences on moto: the record and its events (CONFERENCE_CREATED, PARTICIPANT_JOINING / JOINED / REMOVED /
JOIN_FAILED / MEDIA_CHANGED / talking, CONFERENCE_FINISHED) as the API and the media node write them, the calls'
`conferenceId`, the REST reads with Infobip's schemas, and the refusals (finished, full, unknown, another account).
The mixing itself is tested on a real node in tests/media/test_conferences.py and end to end in tests/integration."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.calls import establish, start_outbound_call
from chalicelib.calls.service import get_call, to_infobip
from chalicelib.conferences import service
from chalicelib.conferences.schemas import MAX_PARTICIPANTS
from chalicelib.core.errors import Conflict
from chalicelib.db.models import OutboxEvent
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator, schema_validator

DOC = "infobip-voice-openapi.json"
BASE = "/calls/1/conferences"


def outbox(account_id: str, stream: str) -> list[dict[str, Any]]:
    return [json.loads(item.body) for item in OutboxEvent.query(f"{account_id}#{stream}")]


def types(account_id: str, stream: str) -> list[str]:
    return [event["type"] for event in outbox(account_id, stream)]


def answered(account_id: str, identity: str, configuration: str = "conf-app") -> str:
    leg = start_outbound_call(account_id, identity, configuration)
    establish(account_id, leg.call_id)
    return leg.call_id


def send(client, method: str, path: str, headers: dict[str, str], body: Any):
    return client.request(method, path, headers={**headers, "Content-Type": "application/json"}, body=json.dumps(body))


def body_of(response, status: int = 200) -> Any:
    assert response.status_code == status, response.body
    return json.loads(response.body)


def test_a_conference_is_created_read_listed_and_finished_with_infobips_schemas(client, account, configuration):
    created = body_of(
        send(client, "POST", BASE, account.headers, {"name": "standup", "callsConfigurationId": configuration}),
        201,
    )
    response_validator(DOC, "POST", BASE, 201)(created)
    assert (created["name"], created["participants"], created["callsConfigurationId"]) == ("standup", [], "conf-app")
    conference_id = created["id"]
    assert types(account.account_id, conference_id) == ["CONFERENCE_CREATED"]
    (event,) = outbox(account.account_id, conference_id)
    assert event["conferenceId"] == conference_id and event["callsConfigurationId"] == "conf-app"
    assert event["properties"]["conference"] == created
    schema_validator(DOC, "ConferenceProperties")(event["properties"])

    one = body_of(client.get(f"{BASE}/{conference_id}", headers=account.headers))
    response_validator(DOC, "GET", f"{BASE}/{{conferenceId}}", 200)(one)
    live = body_of(client.get(f"{BASE}?name=standup", headers=account.headers))
    response_validator(DOC, "GET", BASE, 200)(live)
    assert [c["id"] for c in live["results"]] == [conference_id]
    assert body_of(client.get(f"{BASE}?name=other", headers=account.headers))["results"] == []
    assert_envelope(client.get(f"{BASE}/{conference_id}/history", headers=account.headers), 404, "NOT_FOUND")

    hung_up = body_of(client.post(f"{BASE}/{conference_id}/hangup", headers=account.headers))  # nobody in it
    response_validator(DOC, "POST", f"{BASE}/{{conferenceId}}/hangup", 200)(hung_up)
    assert types(account.account_id, conference_id) == ["CONFERENCE_CREATED", "CONFERENCE_FINISHED"]
    history = body_of(client.get(f"{BASE}/history", headers=account.headers))
    response_validator(DOC, "GET", f"{BASE}/history", 200)(history)
    assert [c["conferenceId"] for c in history["results"]] == [conference_id]
    log = body_of(client.get(f"{BASE}/{conference_id}/history", headers=account.headers))
    response_validator(DOC, "GET", f"{BASE}/{{conferenceId}}/history", 200)(log)
    assert log["errorCode"]["name"] == "NORMAL_HANGUP"
    assert body_of(client.get(BASE, headers=account.headers))["results"] == []  # no longer live
    # a finished conference is never reopened
    assert_envelope(client.post(f"{BASE}/{conference_id}/hangup", headers=account.headers), 409, "CONFLICT")
    call_id = answered(account.account_id, "ann")
    response = send(client, "PUT", f"{BASE}/{conference_id}/call/{call_id}", account.headers, {})
    assert_envelope(response, 409, "CONFLICT")


def test_participants_join_change_and_leave_and_the_last_one_out_finishes_it(account, configuration):
    acc = account.account_id
    record = service.create(acc, configuration, name="team")
    ann, ben = answered(acc, "ann"), answered(acc, "ben")
    service.add_participant(acc, record.conference_id, get_call(acc, ann))
    service.joined(acc, record.conference_id, ann)
    service.add_participant(acc, record.conference_id, get_call(acc, ben))
    service.joined(acc, record.conference_id, ben)
    service.media_changed(acc, record.conference_id, ann, True, False)
    service.talking(acc, record.conference_id, ben, True)
    service.talking(acc, record.conference_id, ben, False)

    assert to_infobip(get_call(acc, ann))["conferenceId"] == record.conference_id
    assert types(acc, ann)[-3:] == ["PARTICIPANT_JOINING", "PARTICIPANT_JOINED", "PARTICIPANT_MEDIA_CHANGED"]
    joined = outbox(acc, ann)[-2]
    assert joined["conferenceId"] == record.conference_id and joined["callId"] == ann
    schema_validator(DOC, "ParticipantProperties")(joined["properties"])
    assert joined["properties"]["participant"]["state"] == "JOINED"
    changed = outbox(acc, ann)[-1]["properties"]
    assert changed["audio"]["muted"] is True and changed["audio"]["deaf"] is False
    assert types(acc, ben)[-2:] == ["PARTICIPANT_STARTED_TALKING", "PARTICIPANT_STOPPED_TALKING"]

    live = service.get_conference(acc, record.conference_id)
    assert [(p.call_id, p.state, p.muted) for p in live.present] == [(ann, "JOINED", True), (ben, "JOINED", False)]

    service.left(acc, record.conference_id, ann, "Removed from the conference")
    removed = outbox(acc, ann)[-1]
    assert removed["type"] == "PARTICIPANT_REMOVED" and removed["properties"]["reason"] == "Removed from the conference"
    schema_validator(DOC, "ParticipantWithReasonProperties")(removed["properties"])
    assert "conferenceId" not in to_infobip(get_call(acc, ann))  # out of it, still a live call
    assert not service.get_conference(acc, record.conference_id).finished

    service.left(acc, record.conference_id, ben, "The call hung up")
    finished = service.get_conference(acc, record.conference_id)
    assert finished.finished and finished.error_code == "NORMAL_HANGUP"
    assert types(acc, record.conference_id) == ["CONFERENCE_CREATED", "CONFERENCE_FINISHED"]
    final = outbox(acc, record.conference_id)[-1]["properties"]
    schema_validator(DOC, "ConferenceWithErrorCodeProperties")(final)
    log = service.get_history(acc, record.conference_id)
    assert [s["callId"] for s in log["sessions"]] == [ann, ben]
    with pytest.raises(Conflict):  # never reopened
        service.add_participant(acc, record.conference_id, get_call(acc, ann))


def test_a_dialed_call_that_answers_before_its_joining_is_recorded_still_joins_in_order(account, configuration):
    acc = account.account_id
    record = service.create(acc, configuration)
    dialed = answered(acc, "cat")
    service.joined(acc, record.conference_id, dialed)  # the node was quicker than the API
    service.add_participant(acc, record.conference_id, get_call(acc, dialed), dialed=True)  # nothing changes
    assert types(acc, dialed)[-2:] == ["PARTICIPANT_JOINING", "PARTICIPANT_JOINED"]
    assert [p.state for p in service.get_conference(acc, record.conference_id).participants] == ["JOINED"]

    never = start_outbound_call(acc, "dan", configuration)
    service.add_participant(acc, record.conference_id, get_call(acc, never.call_id), dialed=True)
    service.left(acc, record.conference_id, never.call_id, "The call was not answered", failed=True)
    assert types(acc, never.call_id)[-2:] == ["PARTICIPANT_JOINING", "PARTICIPANT_JOIN_FAILED"]


def test_a_conference_holds_at_most_fifteen_and_a_call_is_in_one_conference_at_a_time(account, configuration):
    acc = account.account_id
    record = service.create(acc, configuration)
    for n in range(MAX_PARTICIPANTS):
        service.add_participant(acc, record.conference_id, get_call(acc, answered(acc, f"user-{n:02}")))
    with pytest.raises(Conflict, match="at most 15"):
        service.add_participant(acc, record.conference_id, get_call(acc, answered(acc, "one-too-many")))
    first = service.get_conference(acc, record.conference_id).participants[0].call_id
    with pytest.raises(Conflict, match="already in this conference"):
        service.add_participant(acc, record.conference_id, get_call(acc, first))
    other = service.create(acc, configuration)
    with pytest.raises(Conflict, match="remove it from there first"):
        service.add_participant(acc, other.conference_id, get_call(acc, first))


def test_calls_are_filtered_by_the_conference_they_are_or_were_in(client, account, configuration):
    acc = account.account_id
    record = service.create(acc, configuration)
    ann, ben = answered(acc, "ann"), answered(acc, "ben")
    service.add_participant(acc, record.conference_id, get_call(acc, ann))
    listed = body_of(client.get(f"/calls/1/calls?conferenceId={record.conference_id}", headers=account.headers))
    assert [call["id"] for call in listed["results"]] == [ann]
    assert ben not in [call["id"] for call in listed["results"]]


def test_requests_are_checked_and_another_accounts_conference_is_unknown(client, account, other_account, configuration):
    created = body_of(send(client, "POST", BASE, account.headers, {"callsConfigurationId": configuration}), 201)
    conference_id = created["id"]
    assert created["name"]  # generated when not given
    for path in (f"{BASE}/{conference_id}", f"{BASE}/{conference_id}/history"):
        assert_envelope(client.get(path, headers=other_account.headers), 404, "NOT_FOUND")
    assert_envelope(client.post(f"{BASE}/{conference_id}/hangup", headers=other_account.headers), 404, "NOT_FOUND")
    assert body_of(client.get(BASE, headers=other_account.headers))["results"] == []
    call_id = answered(account.account_id, "ann")
    assert_envelope(  # another account's call is unknown too
        send(client, "PUT", f"{BASE}/{conference_id}/call/{call_id}", other_account.headers, {}), 404, "NOT_FOUND"
    )

    bad = [
        (BASE, {"name": "x"}),  # no calls configuration
        (BASE, {"callsConfigurationId": configuration, "recording": {"recordingType": "AUDIO"}}),
        ("/calls/1/connect", {"callIds": [call_id]}),  # fewer than two
        ("/calls/1/connect", {"callIds": [call_id, call_id]}),  # not unique
        (f"/calls/1/calls/{call_id}/connect", {"callRequest": {"endpoint": {"type": "WEBRTC"}}}),
    ]
    for path, body in bad:
        assert_envelope(send(client, "POST", path, account.headers, body), 400, "BAD_REQUEST")
    unknown = send(client, "POST", BASE, account.headers, {"callsConfigurationId": "no-such-app"})
    assert_envelope(unknown, 404, "NOT_FOUND")
    ringing = start_outbound_call(account.account_id, "ben", configuration).call_id  # not answered yet
    response = send(client, "PUT", f"{BASE}/{conference_id}/call/{ringing}", account.headers, {})
    assert "answered" in assert_envelope(response, 409, "CONFLICT")["text"]
    response = send(client, "POST", "/calls/1/connect", account.headers, {"callIds": [call_id, "nope"]})
    assert_envelope(response, 404, "NOT_FOUND")
    response = send(client, "PATCH", f"{BASE}/{conference_id}/call/{call_id}", account.headers, {"muted": True})
    assert_envelope(response, 404, "NOT_FOUND")  # not a participant
