"""cfn-lint on the synthesized template (errors fail), and cdk-nag's AwsSolutions pack (unacknowledged findings
fail synthesis), each shown to fail on a broken input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint import api as cfnlint

from tests.infra.conftest import REGION, STAGE


def lint_errors(template: dict[str, Any]) -> list[str]:
    """What `cfn-lint --non-zero-exit-code error` fails on: errors only (rule ids starting with E)."""
    matches = cfnlint.lint(json.dumps(template), regions=[REGION])
    return [f"{match.rule.id} {match.message}" for match in matches if match.rule.id.startswith("E")]


def test_cfn_lint_finds_no_errors(template):
    assert lint_errors(template) == []


def test_cfn_lint_fails_a_broken_template(template):
    broken = json.loads(json.dumps(template))
    table = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    table["Properties"]["BillingMode"] = "FREE_OF_CHARGE"
    mapping = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping")
    mapping["Properties"]["FunctionResponseTypes"] = ["ReportEverything"]
    errors = lint_errors(broken)
    assert any("FREE_OF_CHARGE" in error for error in errors)
    assert any("ReportEverything" in error for error in errors)


def test_nag_reads_the_real_stack_and_each_acknowledgement_is_needed(synthesized, tmp_path):
    # The session fixture synthesized with the acknowledgements (and would have raised on any other finding).
    # Without them the same stack fails, on exactly the findings nag.py acknowledges.
    from infra.cdk.app import build_app

    app, _ = build_app(context={"stage": STAGE, "region": REGION}, outdir=str(tmp_path), acknowledge=False)
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    report = str(failure.value)
    rules = ("AwsSolutions-SQS3", "AwsSolutions-S1", "AwsSolutions-SMG4", "AwsSolutions-IAM5[Resource::*]")
    media_rules = ("AwsSolutions-ELB2", "AwsSolutions-EC23", "AwsSolutions-ECS2")
    for rule in rules + media_rules:
        assert f"Acknowledge with 'AwsSolutions::{rule}'" in report
    for path in ("MediaFleet/TaskRole/DefaultPolicy", "MediaFleet/Task/ExecutionRole/DefaultPolicy"):
        assert f"dev/{path}/Resource" in report
    assert "/index/*]'" in report
    assert "/*/files/*]'" in report  # the audio-file object grants (API handler and media node)


def test_cdk_nag_fails_synthesis_on_an_unacknowledged_finding(tmp_path):
    from aws_cdk import App, Stack, Validations
    from aws_cdk import aws_sqs as sqs
    from cdk_nag import AwsSolutionsChecks

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "probe")
    sqs.Queue(stack, "Unencrypted", encryption=sqs.QueueEncryption.UNENCRYPTED)  # SQS2, SQS3, SQS4
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS2"):
        app.synth()
