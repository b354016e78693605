"""Scheduled functions in the synthesized stack: the dead-node reaper runs every minute, within a minute, with a
role that reaches only the tables it ends things in (and their indexes), and no queue, key or object."""

from __future__ import annotations

import json
from typing import Any

from infra.cdk import checks


def _statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    found: list[dict[str, Any]] = []
    for _, properties in checks.resources(template, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        if {"Ref": role} in properties.get("Roles", []):
            found += properties["PolicyDocument"]["Statement"]
    return found


def _table_logical(template: dict[str, Any], name: str) -> str:
    return next(
        logical
        for logical, properties in checks.resources(template, "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
        if properties.get("TableName") == f"switchboard-dev-{name}"
    )


def test_the_reaper_runs_every_minute_and_finishes_within_it(template):
    reaper = template["Resources"]["ReapDeadNodes"]
    schedules = [event for event in reaper["Properties"]["Events"].values() if event["Type"] == "Schedule"]
    assert [event["Properties"]["Schedule"] for event in schedules] == ["rate(1 minute)"]
    assert reaper["Properties"]["Timeout"] <= 60
    assert reaper["Properties"]["FunctionName"] == "switchboard-dev-reap-dead-nodes"


def test_the_reapers_role_reaches_its_tables_and_their_indexes_only(template):
    statements = _statements(template, "ReapDeadNodes")
    text = json.dumps(statements)
    for table in ("calls", "recording-files", "media-nodes", "conferences", "dialogs", "outbox", "event-sequences"):
        assert _table_logical(template, table) in text, table
    resources = [resource for statement in statements for resource in _as_list(statement["Resource"])]
    for index_of in ("calls", "recording-files"):  # the live-by-node and by-node indexes
        logical = _table_logical(template, index_of)
        assert {"Fn::Join": ["", [{"Fn::GetAtt": [logical, "Arn"]}, "/index/*"]]} in resources, index_of
    for unrelated in ("accounts", "api-keys", "subscriptions", "recording-export-destinations"):
        assert _table_logical(template, unrelated) not in text, unrelated
    assert not any(action.startswith(("sqs:", "s3:", "secretsmanager:")) for action in _actions(statements))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _actions(statements: list[dict[str, Any]]) -> list[str]:
    actions: list[str] = []
    for statement in statements:
        actions += _as_list(statement["Action"])
    return actions
