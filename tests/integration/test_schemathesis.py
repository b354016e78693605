"""schemathesis runs Infobip's voice OpenAPI document against the running local stack: for every operation the
document describes and the app implements, valid and invalid requests are generated and sent with the stack's dev
account; no answer may be a 5xx, and every answer must match the document's schema for its status (and declare its
content type). Invalid requests must be refused with the documented error body, never crash.

- The document is read from ../shared/reference/openapi (never copied here); without it the test skips, saying so.
- The operations are the document's (method, path) pairs that the Chalice app routes, read from the app itself, so
  an operation is covered the moment its route exists.
- Path parameters are random ids (unknown: 404) and, for reads and actions, the ids of resources made first (a
  calls configuration, a finished call, a conference, an audio file, a media-stream configuration), so requests get
  past the lookup to the rules behind it. Deletes only ever get random ids, so the known resources stay.
- Bounded and deterministic: a fixed number of examples per operation, generation mode and kind of ids
  (`RANDOM_IDS`, `KNOWN_IDS`), Hypothesis derandomized, no shrinking, no example database.
- Infobip's times: the document types them `format: date-time` (RFC 3339, offset `+00:00`), while Infobip writes
  and documents `yyyy-MM-dd'T'HH:mm:ss.SSSZ` (`2026-01-15T11:59:30.000+0000`, reference §1), which its own client
  parses. That one format check is replaced, in the loaded copy only, by a pattern that accepts both spellings of
  an ISO-8601 time; every other part of those schemas is checked as published.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.integration.test_calls_client import stack  # noqa: F401 (fixture)
from tests.support.audio_files import form, make_wav
from tests.support.openapi import OPENAPI_DIR
from tests.support.stack import Stack

DOCUMENT = OPENAPI_DIR / "infobip-voice-openapi.json"
RANDOM_IDS = 2  # examples per operation and mode with generated path ids (they end at the lookup: 404)
KNOWN_IDS = 4  # examples per operation and mode with the ids of existing resources
ISO_8601 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

# Where the published document is wrong or stricter than Infobip's real behaviour, the check is excluded here, for
# that operation only, with the reason. (None so far.)
EXCLUDED: dict[tuple[str, str], tuple[Any, str]] = {}


def implemented() -> set[tuple[str, str]]:
    """(METHOD, path) of every route the control plane serves, read from the Chalice app."""
    from app import app

    return {(method, path) for path, methods in app.routes.items() for method in methods if method in HTTP_METHODS}


def _infobip_times(schema: Any) -> Any:
    """`format: date-time` → a pattern for ISO-8601 times with or without the colon in the offset (see above)."""
    if isinstance(schema, dict):
        changed = {key: _infobip_times(value) for key, value in schema.items()}
        if changed.get("format") == "date-time" and changed.get("type") == "string":
            del changed["format"]
            changed["pattern"] = ISO_8601
        return changed
    if isinstance(schema, list):
        return [_infobip_times(item) for item in schema]
    return schema


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    if not DOCUMENT.exists():
        pytest.skip(f"Infobip's voice OpenAPI document {DOCUMENT} is not available on this machine")
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text())
    adjusted = copy.deepcopy(loaded)
    adjusted["components"]["schemas"] = _infobip_times(loaded["components"]["schemas"])
    return adjusted


@pytest.fixture(scope="module")
def known(stack: Stack) -> Iterator[dict[str, str]]:  # noqa: F811
    """Resources of the dev account whose ids stand in for path parameters."""
    with httpx.Client(base_url=stack.url, headers=stack.headers, timeout=30) as api:
        configuration = api.post("/calls/1/configurations", json={"id": "schemathesis", "name": "schemathesis"})
        assert configuration.status_code == 201, configuration.text
        call = api.post(  # nobody has this identity: the call fails at once and stays as a finished call
            "/calls/1/calls",
            json={"endpoint": {"type": "WEBRTC", "identity": "nobody-here"}, "callsConfigurationId": "schemathesis"},
        )
        assert call.status_code == 201, call.text
        conference = api.post("/calls/1/conferences", json={"name": "fuzz", "callsConfigurationId": "schemathesis"})
        assert conference.status_code == 201, conference.text
        body, content_type = form(make_wav(seconds=1.0))
        upload = api.post("/calls/1/files", content=body, headers={"Content-Type": content_type})
        assert upload.status_code == 200, upload.text
        stream = api.post(
            "/calls/1/media-stream-configs",
            json={"type": "MEDIA_STREAMING", "name": "fuzz", "url": "ws://127.0.0.1:9/stream"},
        )
        assert stream.status_code in (200, 201), stream.text
        yield {
            "callsConfigurationId": "schemathesis",
            "callId": call.json()["id"],
            "parentCallId": call.json()["id"],
            "childCallId": call.json()["id"],
            "conferenceId": conference.json()["id"],
            "fileId": upload.json()["id"],
            "mediaStreamConfigId": stream.json()["id"],
        }


def _run(operation: Any, strategy: Any, examples: int, stack: Stack, failures: list[str]) -> int:  # noqa: F811
    checks = [check for check in CHECKS if (operation.method.upper(), operation.path) not in EXCLUDED]
    sent = 0

    @given(case=strategy)
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: Any) -> None:
        nonlocal sent
        sent += 1
        try:
            case.call_and_validate(base_url=stack.url, headers=stack.headers, checks=checks, timeout=30)
        except (Exception, BaseExceptionGroup) as error:  # schemathesis' FailureGroup, or the transport's error
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
            raise

    try:
        exercise()
    except (Exception, BaseExceptionGroup):  # noqa: S110
        pass  # recorded: every operation runs, then all failures are reported together
    return sent


def test_the_implemented_operations_answer_as_infobips_document_says(
    document: dict[str, Any],
    stack: Stack,  # noqa: F811
    known: dict[str, str],
):
    schema = schemathesis.openapi.from_dict(document)
    routes = implemented()
    every = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # a part of the document schemathesis cannot read
        every.append(result.ok())
    operations = [operation for operation in every if (operation.method.upper(), operation.path) in routes]
    assert len(operations) >= 60, sorted(routes)  # the Calls API is implemented: the filter must not lose it

    failures: list[str] = []
    sent = 0
    for operation in sorted(operations, key=lambda op: (op.method.upper() == "DELETE", op.path, op.method)):
        names = {parameter.name for parameter in operation.path_parameters}
        modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        runs = [(operation.as_strategy(mode), RANDOM_IDS if names else KNOWN_IDS) for mode in modes]
        if names and operation.method.upper() != "DELETE" and names <= known.keys():
            ids = {name: known[name] for name in names}
            runs += [(operation.as_strategy(mode, path_parameters=ids), KNOWN_IDS) for mode in modes]
        for strategy, examples in runs:
            sent += _run(operation, strategy, examples, stack, failures)
    print(f"schemathesis: {len(operations)} operations, {sent} requests")
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures)
