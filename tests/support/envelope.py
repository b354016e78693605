"""Assertions on Infobip's error envelope."""

from __future__ import annotations

import json
from typing import Any


def assert_envelope(response: Any, status: int, message_id: str) -> dict[str, Any]:
    """`response` is a chalice test-client or httpx response. Returns the serviceException."""
    status_code = getattr(response, "status_code", None)
    assert status_code == status, (status_code, response.body if hasattr(response, "body") else response.text)
    raw = response.body if hasattr(response, "body") else response.content
    body = json.loads(raw)
    exception = body["requestError"]["serviceException"]
    assert exception["messageId"] == message_id
    assert isinstance(exception["text"], str) and exception["text"]
    assert "Traceback" not in raw.decode()
    return dict(exception)
