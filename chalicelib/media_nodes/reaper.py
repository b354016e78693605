"""The dead-node reaper: a scheduled job that ends what a media node left behind when it died without draining
(SIGKILL, a lost Fargate task), so no call, conference, dialog or recording stays live forever.

A node is dead when its registry entry has not been refreshed for `reaper_dead_after_seconds` (three missed
heartbeats), or when live legs name a node that is not in the registry at all (it deregistered, or its entry
expired, with calls left). For each dead node, a run:

1. ends its live legs as FAILED with SERVICE_UNAVAILABLE (CALL_FAILED, hangup source PLATFORM): Infobip's "the service
   is not available" is the platform failure that fits a call whose media server is gone, in any phase;
2. takes each leg it ended out of its conference (PARTICIPANT_REMOVED; the last one out finishes the conference
   with the same code) and ends its dialog (DIALOG_FINISHED, or DIALOG_FAILED before it was established, with
   hangupSource PLATFORM);
3. marks the node's RECORDING and UPLOADING files FAILED with a reason (the recording's *_RECORDING_FAILED, or
   READY as PARTIALLY_FAILED when other files of it were stored);
4. removes the registry entry, on condition that the node did not beat again meanwhile.

Legs that never got a node (their placing request died between creating the leg and ringing a node) are ended too
once they are `reaper_unassigned_after_seconds` old: placing a call takes one API request (at most 29 s) plus a
connect timeout of at most 60 s, so a leg without a node after five minutes can never be rung. They fail with
REQUEST_TIMEOUT (SERVICE_UNAVAILABLE if one somehow got established).

Safe to repeat and to overlap: every change is conditional on what was read (a leg's state, a file's status, a
conference's or dialog's version, the entry's heartbeat), so of two runs, or of a run and a node ending its own
call, exactly one ending happens; a leg ended meanwhile is left alone with its conference and dialog (whoever ended
it ends those). Bounded: at most `reaper_max_items` legs and as many files per run; a node keeps its registry entry
until a run finishes all of its work, so the next run picks up the rest.

Live legs are read from the sparse `live-by-node` index (live legs only), so a run costs what is live, not the
calls history; files from the `by-node` index of recording files (a query per node and status).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.calls import repository as calls_repository
from chalicelib.calls import service as calls_service
from chalicelib.calls.errors import CallNotFound, IllegalTransition
from chalicelib.calls.records import CallRecord
from chalicelib.calls.schemas import CallState, HangupSource
from chalicelib.conferences import service as conferences_service
from chalicelib.core import clock
from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings
from chalicelib.dialogs import service as dialogs_service
from chalicelib.media_nodes import repository
from chalicelib.recordings import repository as recordings_repository
from chalicelib.recordings import service as recordings_service

NODE_LOST = "SERVICE_UNAVAILABLE"
NEVER_PLACED = "REQUEST_TIMEOUT"


@dataclass(frozen=True)
class StrandedLeg:
    account_id: str
    call_id: str
    node_id: str | None  # None: no node ever took it


@dataclass(frozen=True)
class Plan:
    """What a run found: dead nodes (their last heartbeat; None when not in the registry) and their live legs."""

    dead_nodes: dict[str, datetime | None]
    legs: list[StrandedLeg]
    truncated: bool  # more legs than one run may end


@dataclass
class Outcome:
    legs_ended: list[str] = field(default_factory=list)
    legs_left_alone: list[str] = field(default_factory=list)  # ended meanwhile, or their node came back
    files_failed: list[str] = field(default_factory=list)
    nodes_removed: list[str] = field(default_factory=list)
    unfinished: bool = False  # a bound was reached: the next run goes on

    def summary(self) -> dict[str, Any]:
        return {
            "legsEnded": len(self.legs_ended),
            "legsLeftAlone": len(self.legs_left_alone),
            "filesFailed": len(self.files_failed),
            "nodesRemoved": self.nodes_removed,
            "unfinished": self.unfinished,
        }


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """The scheduled Lambda's work (the event only says that the schedule fired)."""
    outcome = run()
    summary = outcome.summary()
    if outcome.legs_ended or outcome.files_failed or outcome.nodes_removed:
        logger().info("reaped dead media nodes", extra=summary)
    return summary


def run(now: datetime | None = None) -> Outcome:
    now = now or clock.now()
    return reap(find(now), now)


def find(now: datetime) -> Plan:
    settings = get_settings()
    cutoff = now - timedelta(seconds=settings.reaper_dead_after_seconds)
    unassigned_cutoff = now - timedelta(seconds=settings.reaper_unassigned_after_seconds)
    beats = {entry.node_id: entry.heartbeat_at for entry in repository.all_entries(consistent=True)}
    dead: dict[str, datetime | None] = {node: beat for node, beat in beats.items() if beat < cutoff}
    legs: list[StrandedLeg] = []
    truncated = False
    for live_node, account_id, call_id, start_time in calls_repository.live_legs():
        if live_node == calls_repository.UNASSIGNED:
            if start_time >= unassigned_cutoff:
                continue
            node_id = None
        elif live_node in beats and live_node not in dead:
            continue  # a live node's call
        else:
            node_id = live_node
            dead.setdefault(node_id, None)  # not in the registry at all
        if len(legs) >= settings.reaper_max_items:
            truncated = True
            break
        legs.append(StrandedLeg(account_id, call_id, node_id))
    return Plan(dead, legs, truncated)


def reap(plan: Plan, now: datetime) -> Outcome:
    settings = get_settings()
    outcome = Outcome(unfinished=plan.truncated)
    # The plan's registry read is a snapshot: a node that beat since (or registered after it) is not touched.
    confirmed = {node: seen for node, seen in plan.dead_nodes.items() if _still_dead(node, seen)}
    for leg in plan.legs:
        if leg.node_id is not None and leg.node_id not in confirmed:
            outcome.legs_left_alone.append(leg.call_id)
            continue
        try:
            seen = confirmed.get(leg.node_id) if leg.node_id is not None else None
            ended = _end_leg(leg, _reason(leg.node_id, seen))
        except Exception:  # one leg that cannot be ended must not keep the others live: the next run retries it
            logger().exception("could not end a stranded leg", extra={"callId": leg.call_id, "nodeId": leg.node_id})
            outcome.unfinished = True
            continue
        (outcome.legs_ended if ended else outcome.legs_left_alone).append(leg.call_id)
    budget = settings.reaper_max_items
    for node_id, seen in confirmed.items():
        files = recordings_repository.unsettled_of_node(node_id, budget + 1)
        if len(files) > budget:
            files, outcome.unfinished = files[:budget], True
        budget -= len(files)
        reason = f"{_reason(node_id, seen)} before the recording was stored"
        for item in files:
            try:
                if recordings_service.file_lost(item.account_id, item.file_id, reason):
                    outcome.files_failed.append(item.file_id)
            except Exception:  # like a leg: the others go on, the next run retries it
                logger().exception("could not mark a lost file", extra={"fileId": item.file_id, "nodeId": node_id})
                outcome.unfinished = True
        if seen is not None and not outcome.unfinished and repository.delete_if_unchanged(node_id, seen):
            outcome.nodes_removed.append(node_id)
    return outcome


def _still_dead(node_id: str, seen: datetime | None) -> bool:
    entry = repository.get(node_id)
    if seen is None:
        return entry is None
    return entry is not None and entry.heartbeat_at == seen


def _reason(node_id: str | None, seen: datetime | None) -> str:
    if node_id is None:
        return "no media node took the call"
    if seen is None:
        return f"the media node {node_id} stopped (it is no longer registered)"
    return f"the media node {node_id} stopped (no heartbeat since {clock.infobip_format(seen)})"


def _end_leg(leg: StrandedLeg, reason: str) -> bool:
    """End the leg and what it is in; False when it ended meanwhile (then whoever ended it ends the rest)."""
    current = calls_repository.get(leg.account_id, leg.call_id)
    if current is None or current.is_terminal or current.node_id != leg.node_id:
        return False  # ended, or a node took it since it was read
    code = NODE_LOST if leg.node_id is not None or current.state is CallState.ESTABLISHED else NEVER_PLACED
    try:
        ended = calls_service.fail(leg.account_id, leg.call_id, code, source=HangupSource.PLATFORM)
    except (IllegalTransition, CallNotFound):
        return False
    _end_surroundings(ended, code, reason)
    return True


def _end_surroundings(leg: CallRecord, code: str, reason: str) -> None:
    if leg.conference_id is not None:
        conferences_service.left(leg.account_id, leg.conference_id, leg.call_id, reason, error_code=code)
    if leg.dialog_id is not None:
        dialogs_service.ended(leg.account_id, leg.dialog_id, code, "PLATFORM")
