"""Infobip's published OpenAPI documents, read from ../shared/reference/openapi (never copied into the repo).

`response_validator(document, method, path, status)` returns a callable that validates a JSON body against the
operation's documented response schema; tests skip, saying why, when the documents are absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

OPENAPI_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "openapi"


@lru_cache(maxsize=4)
def load(document: str) -> dict[str, Any]:
    path = OPENAPI_DIR / document
    if not path.exists():
        pytest.skip(f"Infobip's OpenAPI document {path} is not available on this machine")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def response_validator(document: str, method: str, path: str, status: int) -> Callable[[Any], None]:
    spec = load(document)
    response = spec["paths"][path][method.lower()]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": spec["components"]})

    def validate(body: Any) -> None:
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])

    return validate


def schema_validator(document: str, title: str) -> Callable[[Any], None]:
    """Like `response_validator`, for one component schema by its title (e.g. a polymorphic response's subtype,
    which JSON Schema does not reach through OpenAPI's `discriminator`)."""
    spec = load(document)
    name = next(key for key, schema in spec["components"]["schemas"].items() if schema.get("title") == title)
    validator = Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})

    def validate(body: Any) -> None:
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])

    return validate
