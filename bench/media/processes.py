"""Starting the bench's processes: a node (stock or engine) pinned to core 0, and load-generator runs on core 1.

Each node's stdout and stderr go to files (a node never blocks on a pipe nobody reads); its ready line is read from
the file. Every wait is bounded, and a node is always stopped (SIGTERM, then SIGKILL) when its run ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.media.spec import Spec

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
LOAD_TIMEOUT = 180.0
NODE_MODULES = {"stock": "bench.media.stock", "engine": "bench.media.node"}


def environment(**extra: str) -> dict[str, str]:
    paths = [str(ROOT), str(ROOT / "media-fargate"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), **extra}


@dataclass(frozen=True)
class RunningNode:
    kind: str
    url: str
    pid: int
    log: Path


@contextlib.contextmanager
def node(kind: str, **env: str) -> Iterator[RunningNode]:
    """A fresh node process of `kind` ("stock" or "engine"), serving until the block ends."""
    with tempfile.TemporaryDirectory(prefix="bench-media-") as directory:
        out, log = Path(directory) / "stdout", Path(directory) / "stderr"
        with out.open("wb") as stdout, log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", NODE_MODULES[kind]],
                cwd=ROOT,
                env=environment(**env),
                stdout=stdout,
                stderr=stderr,
            )
        try:
            ready = _ready_line(process, out, log)
            yield RunningNode(kind, ready["url"], ready["pid"], log)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)


def _ready_line(process: subprocess.Popen[bytes], out: Path, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for line in out.read_text().splitlines():
            if line.startswith("READY "):
                return dict(json.loads(line.removeprefix("READY ")))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"the node did not start:\n{log.read_text()[-2000:]}")


def load(spec: Spec) -> dict[str, Any]:
    """Run one load-generator scenario in its own process; its result (or `{"error": ...}`)."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bench.media.load", json.dumps(asdict(spec))],
            cwd=ROOT,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=LOAD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"the load generator took more than {LOAD_TIMEOUT:.0f} s"}
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        return {"error": (result.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    return dict(json.loads(lines[-1]))
