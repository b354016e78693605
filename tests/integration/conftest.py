"""Integration tests start the real local stack and talk to it over HTTP, with receivers on loopback."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration
