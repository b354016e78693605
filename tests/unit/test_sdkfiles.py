"""The served SDK file: the copy in `sdk/js` is the one Lambda ships, and its ETag names its content."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.core.errors import NotFound
from chalicelib.sdkfiles import service

ROOT = Path(__file__).resolve().parents[2]


def test_the_sdk_in_sdk_js_is_the_file_the_control_plane_serves():
    linked = ROOT / "sdk/js/switchboard-rtc.js"
    assert linked.is_symlink(), "sdk/js/switchboard-rtc.js must stay a link to the served file (one source)"
    assert linked.resolve() == (ROOT / "chalicelib/sdkfiles/static/switchboard-rtc.js").resolve()


def test_the_served_file_is_the_packaged_module_with_an_etag_of_its_content():
    sdk = service.sdk_file("v1", "switchboard-rtc.js")
    assert "export function createSwitchboardRtc" in sdk.body
    assert sdk.content_type.startswith("text/javascript")
    assert sdk.etag.startswith('"') and sdk.etag.endswith('"') and len(sdk.etag) == 34


@pytest.mark.parametrize(
    ("header", "matches"),
    [(None, False), ("", False), ('"other"', False), ("*", True), ("{etag}", True), ('"x", W/{etag}', True)],
)
def test_if_none_match_is_honoured_for_this_content_only(header, matches):
    sdk = service.sdk_file("v1", "switchboard-rtc.js")
    assert sdk.matches(header.format(etag=sdk.etag) if header else header) is matches


def test_unknown_versions_are_not_found():
    with pytest.raises(NotFound):
        service.sdk_file("v0", "switchboard-rtc.js")
