"""Reading calls (`GET /calls/1/calls`, `/calls/1/calls/history`, `/calls/1/calls/{callId}/history`): live legs
versus finished ones, every documented filter, paging, 400s for bad filters, tenant isolation, and bodies that
Infobip's OpenAPI document accepts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.calls import establish, hangup, start_outbound_call, start_webrtc_call, to_call_log, to_infobip
from chalicelib.calls.service import get_call
from chalicelib.core import clock
from tests.support.envelope import assert_envelope
from tests.support.openapi import response_validator

DOC = "infobip-voice-openapi.json"
LIVE = "/calls/1/calls"
HISTORY = "/calls/1/calls/history"
ONE_HISTORY = "/calls/1/calls/{callId}/history"


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    """Start times are set by the test (clock.shift), so 'newest first' and startTimeAfter are exact."""
    clock.reset()
    clock.freeze()
    yield
    clock.reset()


def get(client, account, path: str, **query: Any) -> Any:
    return client.get(f"{path}?{urlencode(query)}" if query else path, headers=account.headers)


def body_of(response) -> Any:
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def ids_of(page: dict[str, Any], key: str = "id") -> list[str]:
    return [item[key] for item in page["results"]]


@pytest.fixture
def legs(account) -> dict[str, str]:
    """A spread of legs, one second apart: a live WebRTC call (two legs), an answered and hung-up application call
    (FINISHED), and one cancelled while calling (CANCELLED)."""
    acc = account.account_id
    caller, callee = start_webrtc_call(acc, "alice", "Alice", "bob", "Bob", calls_configuration_id="conf-a")
    clock.shift(1)
    answered = start_outbound_call(acc, "carol", "conf-b", from_="IVR", application_id="app-1", entity_id="e-1")
    establish(acc, answered.call_id)
    clock.shift(1)
    hangup(acc, answered.call_id)
    cancelled = start_outbound_call(acc, "dave", "conf-b")
    clock.shift(1)
    hangup(acc, cancelled.call_id)
    return {
        "caller": caller.call_id,
        "callee": callee.call_id,
        "finished": answered.call_id,
        "cancelled": cancelled.call_id,
    }


def test_live_calls_and_history_are_separate_and_match_infobips_schemas(client, account, legs):
    acc = account.account_id
    live = body_of(get(client, account, LIVE))
    response_validator(DOC, "GET", LIVE, 200)(live)
    assert sorted(ids_of(live)) == sorted([legs["caller"], legs["callee"]])
    assert live["results"][0] == to_infobip(get_call(acc, live["results"][0]["id"]))
    assert live["paging"] == {"page": 0, "size": 20, "totalPages": 1, "totalResults": 2}

    history = body_of(get(client, account, HISTORY))  # a page, not "call 'history' not found"
    response_validator(DOC, "GET", HISTORY, 200)(history)
    assert ids_of(history, "callId") == [legs["cancelled"], legs["finished"]]  # newest first
    assert [log["state"] for log in history["results"]] == ["CANCELLED", "FINISHED"]
    assert history["results"][1] == to_call_log(get_call(acc, legs["finished"]))

    one = body_of(get(client, account, f"/calls/1/calls/{legs['finished']}/history"))
    response_validator(DOC, "GET", ONE_HISTORY, 200)(one)
    assert one["callId"] == legs["finished"] and one["duration"] == 1 and one["errorCode"]["name"] == "NORMAL_HANGUP"
    assert one["platform"] == {"applicationId": "app-1", "entityId": "e-1"}


def test_a_live_call_has_no_history_and_an_unknown_one_none_at_all(client, account, legs):
    assert_envelope(get(client, account, f"/calls/1/calls/{legs['caller']}/history"), 404, "NOT_FOUND")
    assert_envelope(get(client, account, "/calls/1/calls/no-such-call/history"), 404, "NOT_FOUND")
    hangup(account.account_id, legs["caller"])
    assert body_of(get(client, account, f"/calls/1/calls/{legs['caller']}/history"))["state"] == "CANCELLED"


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        (LIVE, {"type": "WEBRTC"}, ["callee", "caller"]),
        (LIVE, {"type": "PHONE"}, []),
        (LIVE, {"callsConfigurationId": "conf-a"}, ["callee", "caller"]),
        (LIVE, {"from": "alice", "to": "bob", "direction": "INBOUND"}, ["caller"]),
        (LIVE, {"direction": "OUTBOUND"}, ["callee"]),
        (LIVE, {"status": "CALLING"}, ["callee", "caller"]),
        (LIVE, {"status": "FINISHED"}, []),  # a finished leg is history, never live
        (HISTORY, {"callsConfigurationId": "conf-b", "applicationId": "app-1"}, ["finished"]),
        (HISTORY, {"status": "CANCELLED"}, ["cancelled"]),
        (HISTORY, {"to": "dave", "from": "conf-b"}, ["cancelled"]),
        (HISTORY, {"status": "CALLING"}, []),
        (HISTORY, {"direction": "INBOUND"}, []),
        (LIVE, {"conferenceId": "conf-1"}, []),  # accepted; no leg is in a conference yet
        (HISTORY, {"dialogId": "dialog-1"}, []),
        (HISTORY, {"bulkId": "bulk-1"}, []),
        (LIVE, {"type": ""}, ["callee", "caller"]),  # an empty parameter is no filter
    ],
)
def test_filters(client, account, legs, path, query, expected):
    key = "id" if path == LIVE else "callId"
    page = body_of(get(client, account, path, **query))
    assert sorted(ids_of(page, key)) == sorted(legs[name] for name in expected)
    assert page["paging"]["totalResults"] == len(expected)


def test_start_time_after_takes_infobips_format_and_the_python_clients(client, account, legs):
    first = get_call(account.account_id, legs["caller"]).start_time
    for value in (
        clock.infobip_format(first),  # 2026-01-15T11:59:30.000+0000
        first.strftime("%Y-%m-%dT%H:%M:%S.%f%z"),  # what infobip-api-python-client sends
        clock.infobip_format(first).replace("+0000", "Z"),
    ):
        page = body_of(get(client, account, HISTORY, startTimeAfter=value))
        assert sorted(ids_of(page, "callId")) == sorted([legs["finished"], legs["cancelled"]]), value
        assert body_of(get(client, account, LIVE, startTimeAfter=value))["results"] == []  # strictly after
    raw_plus = client.get(f"{HISTORY}?startTimeAfter={clock.infobip_format(first)}", headers=account.headers)
    assert body_of(raw_plus)["paging"]["totalResults"] == 2  # an unencoded + arrives as a space


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"type": "FAX"}, "type"),
        ({"direction": "SIDEWAYS"}, "direction"),
        ({"status": "DONE"}, "status"),
        ({"startTimeAfter": "yesterday"}, "startTimeAfter"),
        ({"startTimeAfter": "2026-01-15"}, "startTimeAfter"),
        ({"startTimeAfter": "2026-01-15T11:59:30.000"}, "startTimeAfter"),
        ({"size": "0"}, "size"),
        ({"size": "101"}, "size"),
        ({"page": "-1"}, "page"),
        ({"page": "first"}, "page"),
    ],
)
@pytest.mark.parametrize("path", [LIVE, HISTORY])
def test_invalid_filters_are_a_400_naming_the_parameter(client, account, path, query, field):
    error = assert_envelope(get(client, account, path, **query), 400, "BAD_REQUEST")
    assert field in error["validationErrors"], error


def test_paging_newest_first(client, account):
    acc = account.account_id
    started = []
    for number in range(5):
        started.append(start_outbound_call(acc, f"user-{number}", "conf").call_id)
        clock.shift(1)
    newest_first = list(reversed(started))
    pages = [body_of(get(client, account, LIVE, page=page, size=2)) for page in range(4)]
    assert [ids_of(page) for page in pages] == [newest_first[0:2], newest_first[2:4], newest_first[4:], []]
    assert [page["paging"] for page in pages[:2]] == [
        {"page": 0, "size": 2, "totalPages": 3, "totalResults": 5},
        {"page": 1, "size": 2, "totalPages": 3, "totalResults": 5},
    ]
    for call_id in started:
        hangup(acc, call_id)
    assert ids_of(body_of(get(client, account, HISTORY, page=1, size=3)), "callId") == newest_first[3:]
    assert body_of(get(client, account, LIVE))["paging"]["totalResults"] == 0


def test_tenants_never_see_each_others_calls(client, account, other_account, legs):
    assert body_of(get(client, other_account, LIVE))["results"] == []
    assert body_of(get(client, other_account, HISTORY))["results"] == []
    assert_envelope(get(client, other_account, f"/calls/1/calls/{legs['finished']}/history"), 404, "NOT_FOUND")
    assert body_of(get(client, account, HISTORY))["paging"]["totalResults"] == 2


def test_reads_need_a_key(client):
    for path in (LIVE, HISTORY, "/calls/1/calls/x/history"):
        assert_envelope(client.get(path), 401, "UNAUTHORIZED")
