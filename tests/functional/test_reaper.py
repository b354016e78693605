"""The dead-node reaper on moto: what a node left live when it stopped beating (calls, a conference, a dialog,
recording files) is ended with its events, its registry entry removed; live nodes' calls of every account are left
alone; repeated, overlapping and racing runs end each thing once; legs no node ever took fail long after their
connect timeout. Run through the scheduled Lambda function itself (Chalice's test client) and the module's phases.

The reaper works on the whole registry and on every account's live legs, so each test gets tables of its own:
no other test's nodes or calls are reaped, and theirs do not disturb these."""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, Literal

import boto3
import pytest
from chalice.test import Client

from chalicelib.calls import repository as calls_repository
from chalicelib.calls import service as calls
from chalicelib.conferences import service as conferences
from chalicelib.contract.control import StartRecordingRequest
from chalicelib.core import clock
from chalicelib.core.settings import reset_settings_cache
from chalicelib.db.models import MediaNode, OutboxEvent, RecordingFile
from chalicelib.dialogs import service as dialogs
from chalicelib.media_nodes import reaper
from chalicelib.media_nodes import service as nodes
from chalicelib.recordings import service as recordings
from infra.local.aws import create_table
from infra.resources import TABLES
from tests.support.openapi import schema_validator

DOC = "infobip-voice-openapi.json"
DEAD_AFTER = 30  # the default: three missed heartbeats


@pytest.fixture
def own_tables(embedded_aws: str) -> Iterator[str]:
    prefix = f"reaper-{secrets.token_hex(4)}-"
    client = boto3.client("dynamodb")
    for spec in TABLES:
        create_table(client, spec, prefix)
    saved = os.environ["SWITCHBOARD_TABLE_PREFIX"]
    os.environ["SWITCHBOARD_TABLE_PREFIX"] = prefix
    reset_settings_cache()
    yield prefix
    os.environ["SWITCHBOARD_TABLE_PREFIX"] = saved
    reset_settings_cache()
    clock.reset()


def beat(node_id: str, *, seconds_ago: float = 0) -> None:
    clock.shift(-seconds_ago)
    try:
        nodes.heartbeat(
            node_id,
            f"https://{node_id}.example",
            f"http://{node_id}.internal",
            status="UP",
            capacity=10,
            calls=1,
            sessions=2,
            started_at=clock.now(),
        )
    finally:
        clock.shift(seconds_ago)


def answered(account_id: str, node_id: str, identity: str) -> str:
    """An application's call to `identity`, rung on `node_id` and answered."""
    leg = calls.start_outbound_call(account_id, identity, "conf-app")
    calls_repository.set_node(account_id, leg.call_id, node_id)
    calls.establish(account_id, leg.call_id)
    return leg.call_id


def webrtc_call(account_id: str, node_id: str, *, answer: bool = True) -> tuple[str, str]:
    caller, callee = calls.start_webrtc_call(account_id, "alice", None, "bob", None, node_id=node_id)
    if answer:
        for leg in (caller, callee):
            calls.establish(account_id, leg.call_id)
    return caller.call_id, callee.call_id


def events(account_id: str, stream: str) -> list[dict[str, Any]]:
    return [json.loads(item.body) for item in OutboxEvent.query(f"{account_id}#{stream}")]


def types(account_id: str, stream: str) -> list[str]:
    return [event["type"] for event in events(account_id, stream)]


def start_recording(
    account_id: str, scope: Literal["CALL", "CONFERENCE"], scope_id: str, node_id: str, participants: list[str]
) -> list[str]:
    request = StartRecordingRequest(
        accountId=account_id, scope=scope, scopeId=scope_id, composition=False, callsConfigurationId="conf-app"
    )
    planned = [recordings.PlannedFile(f"file-{secrets.token_hex(6)}", call, clock.now()) for call in participants]
    recordings.recording_started(request, f"rec-{secrets.token_hex(4)}", planned, node_id)
    return [file.file_id for file in planned]


def invoke_reaper(app: Any) -> dict[str, Any]:
    """The scheduled function, as EventBridge would call it."""
    with Client(app, stage_name="test") as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=["rule/reap_dead_nodes"]
        )
        result: dict[str, Any] = client.lambda_.invoke("reap_dead_nodes", event).payload
    return result


def test_a_dead_nodes_calls_conference_dialog_and_recordings_are_ended_and_its_entry_removed(own_tables, chalice_app):
    acc, other = f"acc-{secrets.token_hex(4)}", f"acc-{secrets.token_hex(4)}"
    dead, live = f"node-dead-{secrets.token_hex(3)}", f"node-live-{secrets.token_hex(3)}"
    beat(dead, seconds_ago=DEAD_AFTER + 15)
    beat(live)

    caller, callee = webrtc_call(acc, dead)
    ringing_caller, ringing_callee = webrtc_call(acc, dead, answer=False)
    calls.ringing(acc, ringing_callee)
    conference = conferences.create(acc, "conf-app", name="standup").conference_id
    in_conference = [answered(acc, dead, name) for name in ("ann", "ben")]
    for call_id in in_conference:
        conferences.add_participant(acc, conference, calls.get_call(acc, call_id))
        conferences.joined(acc, conference, call_id)
    parent, child = (calls.get_call(acc, answered(acc, dead, name)) for name in ("cat", "dan"))
    dialog = dialogs.create(acc, parent, child, max_duration=600, node_id=dead).dialog_id
    dialogs.established(acc, dialog)
    call_files = start_recording(acc, "CALL", caller, dead, [caller, callee])
    conference_files = start_recording(acc, "CONFERENCE", conference, dead, in_conference)
    stopped = RecordingFile.get(acc, conference_files[0], consistent_read=True)
    recordings.recording_stopped(acc, stopped.recording_id, clock.now())  # its files UPLOADING when the node died

    mine_on_live = webrtc_call(acc, live)
    theirs_on_live = webrtc_call(other, live)
    live_files = start_recording(other, "CALL", theirs_on_live[0], live, list(theirs_on_live))

    summary = invoke_reaper(chalice_app)
    assert summary == {
        "legsEnded": 8,
        "legsLeftAlone": 0,
        "filesFailed": 4,
        "nodesRemoved": [dead],
        "unfinished": False,
    }

    # every leg the dead node had: CALL_FAILED, SERVICE_UNAVAILABLE, ended by the platform, whatever its phase
    for call_id in (caller, callee, ringing_caller, ringing_callee, *in_conference, parent.call_id, child.call_id):
        (failed,) = [e for e in events(acc, call_id) if e["type"] in ("CALL_FINISHED", "CALL_FAILED")]
        assert failed["type"] == "CALL_FAILED", types(acc, call_id)
        schema_validator(DOC, "CallWithErrorCodeProperties")(failed["properties"])
        log = failed["properties"]["callLog"]
        assert (log["state"], log["errorCode"]["name"], log["hangupSource"]) == (
            "FAILED",
            "SERVICE_UNAVAILABLE",
            "PLATFORM",
        )
        assert calls.get_call(acc, call_id).state == "FAILED"
    # the conference: both participants removed with the reason, then finished with the same code
    # (a participant's events are in its call's stream, after the call's end)
    for call_id in in_conference:
        assert types(acc, call_id)[-2:] == ["CALL_FAILED", "PARTICIPANT_REMOVED"]
        removed = events(acc, call_id)[-1]
        assert removed["conferenceId"] == conference
        assert removed["properties"]["reason"].startswith(f"the media node {dead} stopped (no heartbeat since ")
    in_order = [e for e in events(acc, conference) if "RECORDING" not in e["type"]]
    assert [e["type"] for e in in_order] == ["CONFERENCE_CREATED", "CONFERENCE_FINISHED"]
    finished = in_order[-1]["properties"]
    schema_validator(DOC, "ConferenceWithErrorCodeProperties")(finished)
    assert finished["errorCode"]["name"] == "SERVICE_UNAVAILABLE" and finished["conference"]["participants"] == []
    assert conferences.get_conference(acc, conference).finished
    # the dialog: finished (it was established) by the platform
    assert types(acc, dialog) == ["DIALOG_CREATED", "DIALOG_ESTABLISHED", "DIALOG_FINISHED"]
    ended = events(acc, dialog)[-1]["properties"]
    schema_validator(DOC, "DialogWithErrorCodeProperties")(ended)
    assert (ended["errorCode"]["name"], ended["hangupSource"], ended["dialog"]["state"]) == (
        "SERVICE_UNAVAILABLE",
        "PLATFORM",
        "FINISHED",
    )
    # recordings: the files FAILED with the reason, each recording's *_RECORDING_FAILED
    for file_id in call_files + conference_files:
        item = RecordingFile.get(acc, file_id, consistent_read=True)
        assert item.status == "FAILED" and item.end_time is not None
        assert item.reason.startswith(f"the media node {dead} stopped") and "before the recording was stored" in (
            item.reason
        )
    recording_failures = [e for e in events(acc, caller) if e["type"] == "CALL_RECORDING_FAILED"]
    assert len(recording_failures) == 1, types(acc, caller)
    properties = recording_failures[0]["properties"]
    schema_validator(DOC, "CallRecordingFailedProperties")(properties)
    assert properties["fileId"] in call_files and "before the recording was stored" in properties["reason"]
    assert types(acc, conference).count("CONFERENCE_RECORDING_FAILED") == 1

    # the dead node is gone from the registry; the live node and every call and file on it are untouched
    assert MediaNode.count(dead) == 0 and MediaNode.count(live) == 1
    for account_id, legs in ((acc, mine_on_live), (other, theirs_on_live)):
        for call_id in legs:
            assert calls.get_call(account_id, call_id).state == "ESTABLISHED"
            assert not {"CALL_FINISHED", "CALL_FAILED", "CALL_RECORDING_FAILED"} & set(types(account_id, call_id))
    assert {RecordingFile.get(other, f).status for f in live_files} == {"RECORDING"}

    # a second run finds nothing left to do and publishes nothing
    before = {call_id: len(types(acc, call_id)) for call_id in (caller, callee, *in_conference)}
    assert reaper.run().summary() == {
        "legsEnded": 0,
        "legsLeftAlone": 0,
        "filesFailed": 0,
        "nodesRemoved": [],
        "unfinished": False,
    }
    assert {call_id: len(types(acc, call_id)) for call_id in before} == before


def test_legs_naming_a_node_that_left_the_registry_are_ended_and_a_recently_silent_node_is_not(own_tables):
    acc = f"acc-{secrets.token_hex(4)}"
    gone, quiet = f"node-gone-{secrets.token_hex(3)}", f"node-quiet-{secrets.token_hex(3)}"
    beat(quiet, seconds_ago=DEAD_AFTER - 10)  # missed a heartbeat or two: not dead yet
    orphan = webrtc_call(acc, gone)
    files = start_recording(acc, "CALL", orphan[0], gone, [orphan[0]])
    on_quiet = webrtc_call(acc, quiet)

    outcome = reaper.run()
    assert sorted(outcome.legs_ended) == sorted(orphan) and outcome.files_failed == files
    assert types(acc, orphan[0])[-2:] == ["CALL_FAILED", "CALL_RECORDING_FAILED"]
    assert types(acc, orphan[1])[-1] == "CALL_FAILED"
    reason = RecordingFile.get(acc, files[0]).reason
    assert reason == f"the media node {gone} stopped (it is no longer registered) before the recording was stored"
    assert [calls.get_call(acc, call_id).state for call_id in on_quiet] == ["ESTABLISHED", "ESTABLISHED"]
    assert MediaNode.count(quiet) == 1


def test_a_run_racing_the_nodes_own_hangup_and_an_overlapping_run_end_each_call_once(own_tables):
    acc = f"acc-{secrets.token_hex(4)}"
    dead = f"node-dead-{secrets.token_hex(3)}"
    beat(dead, seconds_ago=DEAD_AFTER + 15)
    hung_up, other_leg = webrtc_call(acc, dead)
    many = [call_id for _ in range(3) for call_id in webrtc_call(acc, dead)]

    plan = reaper.find(clock.now())
    assert {leg.call_id for leg in plan.legs} == {hung_up, other_leg, *many}
    # the node, not quite dead, ends one call itself after the reaper read it as live
    calls.hangup(acc, hung_up, "NORMAL_HANGUP")
    # two runs at once over the same plan (EventBridge may overlap them), plus a third planning on its own
    outcomes: list[reaper.Outcome] = []
    runs = [threading.Thread(target=lambda: outcomes.append(reaper.reap(plan, clock.now()))) for _ in range(2)]
    runs.append(threading.Thread(target=lambda: outcomes.append(reaper.run())))
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=120)

    assert types(acc, hung_up)[-1] == "CALL_FINISHED" and "CALL_FAILED" not in types(acc, hung_up)
    assert calls.get_call(acc, hung_up).error_code == "NORMAL_HANGUP"
    for call_id in (other_leg, *many):
        assert types(acc, call_id).count("CALL_FAILED") == 1, types(acc, call_id)
    ended = [call_id for outcome in outcomes for call_id in outcome.legs_ended]
    assert sorted(ended) == sorted([other_leg, *many])  # each leg ended by exactly one of the runs
    assert MediaNode.count(dead) == 0
    assert sum(len(outcome.nodes_removed) for outcome in outcomes) == 1


def test_a_leg_no_node_took_fails_only_long_after_any_connect_timeout(own_tables):
    acc = f"acc-{secrets.token_hex(4)}"
    clock.shift(-400)
    try:
        stranded = calls.start_outbound_call(acc, "erin", "conf-app").call_id
    finally:
        clock.shift(400)
    placing = calls.start_outbound_call(acc, "fred", "conf-app").call_id  # a request placing it right now

    outcome = reaper.run()
    assert outcome.legs_ended == [stranded]
    failed = events(acc, stranded)[-1]
    assert failed["type"] == "CALL_FAILED"
    assert failed["properties"]["callLog"]["errorCode"]["name"] == "REQUEST_TIMEOUT"
    assert types(acc, placing) == ["CALL_STARTED"] and calls.get_call(acc, placing).state == "CALLING"
    # once a node takes it, it is that node's call (and no longer a stranded one)
    calls_repository.set_node(acc, placing, "node-somewhere")
    assert [live for live, *_ in calls_repository.live_legs()] == ["node-somewhere"]


def test_work_per_run_is_bounded_and_the_entry_stays_until_all_is_done(own_tables, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_REAPER_MAX_ITEMS", "3")
    reset_settings_cache()
    acc = f"acc-{secrets.token_hex(4)}"
    dead = f"node-dead-{secrets.token_hex(3)}"
    beat(dead, seconds_ago=DEAD_AFTER + 15)
    legs = [call_id for _ in range(3) for call_id in webrtc_call(acc, dead)]

    first = reaper.run()
    assert len(first.legs_ended) == 3 and first.unfinished and MediaNode.count(dead) == 1
    second = reaper.run()
    assert len(second.legs_ended) == 3 and not second.unfinished and second.nodes_removed == [dead]
    assert sorted(first.legs_ended + second.legs_ended) == sorted(legs)
    assert list(calls_repository.live_legs()) == []
    reset_settings_cache()


def test_a_node_back_before_the_run_keeps_its_calls(own_tables):
    acc = f"acc-{secrets.token_hex(4)}"
    node = f"node-slow-{secrets.token_hex(3)}"
    beat(node, seconds_ago=DEAD_AFTER + 15)
    legs = webrtc_call(acc, node)
    plan = reaper.find(clock.now())
    assert plan.dead_nodes == {node: MediaNode.get(node).heartbeat_at}
    beat(node)  # it beats again between the plan and the work

    outcome = reaper.reap(plan, clock.now())
    assert outcome.legs_ended == [] and sorted(outcome.legs_left_alone) == sorted(legs)
    assert [calls.get_call(acc, call_id).state for call_id in legs] == ["ESTABLISHED", "ESTABLISHED"]
    assert MediaNode.count(node) == 1
    assert timedelta(0) <= clock.now() - MediaNode.get(node).heartbeat_at < timedelta(seconds=DEAD_AFTER)
