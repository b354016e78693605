"""Media nodes for the local stack: `python -m switchboard_media` subprocesses with the stack's environment.

`make run` starts one; a second can be started on another port for multi-node work
(`SWITCHBOARD_MEDIA_PORT=8101 PYTHONPATH=.:media-fargate python -m switchboard_media` with the printed AWS endpoint).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

READY = "SWITCHBOARD_MEDIA_READY "


@dataclass
class MediaNodeProcess:
    process: subprocess.Popen[str]
    node_id: str
    url: str

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: the node drains and ends its calls with events
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_media_node(
    root: Path, port: int, timeout: float = 60, environment: dict[str, str] | None = None
) -> MediaNodeProcess:
    """`environment` (default this process's) is the stack's: a second node of a running stack gets the stack's
    embedded-AWS settings (tests/integration/test_webrtc_calls_across_nodes.py)."""
    env = {
        **(os.environ if environment is None else environment),
        "SWITCHBOARD_MEDIA_PORT": str(port),
        "PYTHONPATH": os.pathsep.join([str(root), str(root / "media-fargate")]),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "switchboard_media"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    found: dict[str, str] = {}
    done = threading.Event()

    def relay() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(READY) and not found:
                found.update(json.loads(line[len(READY) :]))
                done.set()
            else:
                print(f"[media] {line}", end="", flush=True)
        done.set()

    threading.Thread(target=relay, name="media-output", daemon=True).start()
    if not done.wait(timeout) or not found:
        process.kill()
        raise RuntimeError("the media node did not start")
    return MediaNodeProcess(process, found["nodeId"], found["url"])
