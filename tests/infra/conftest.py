"""Synthesizes the real stack once per session (offline: no credentials, no Docker, no node CLI) and hands its
template to the checks. Synthesis itself runs cdk-nag: an unacknowledged finding fails the fixture."""

from __future__ import annotations

import os
from typing import Any

import pytest

# jsii prints a banner on every start under an end-of-life node; it says nothing about the template.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

STAGE = "dev"
REGION = "eu-west-1"


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from infra.cdk.app import build_app

    app, stack = build_app(context={"stage": STAGE, "region": REGION}, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    assembly = app.synth()
    return stack, assembly.get_stack_by_name(stack.stack_name)


@pytest.fixture(scope="session")
def template(synthesized: Any) -> dict[str, Any]:
    template: dict[str, Any] = synthesized[1].template
    return template
