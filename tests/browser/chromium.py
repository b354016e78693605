"""Debian's Chromium as the tests drive it: where it is, the flags it needs here, and why a test would skip."""

from __future__ import annotations

import importlib.util
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    # three fake cameras, so a camera switch has somewhere to go: fake_device_0 (I420, the default) and
    # fake_device_2 (MJPEG) can be sent; fake_device_1 is a depth camera (Y16) whose frames never reach an encoder
    "--use-fake-device-for-media-stream=device-count=3",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",  # the node and the browser share one machine
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",  # remote audio and the page's AudioContext start unprompted
]
MICROPHONE_TONE_HZ = 1500  # what the fake microphone says (a WAV the tests write)


def unavailable() -> str | None:
    """Why browser tests cannot run on this machine, or None when they can."""
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; `make test` installs it)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (it is a dev dependency; never run `playwright install`)"
    return None
