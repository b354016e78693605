"""Starts the local stack (`python -m infra.local`) as a subprocess, as an operator would, and talks to it."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
READY = "SWITCHBOARD_READY "


@dataclass
class Stack:
    process: subprocess.Popen[str]
    ready: dict[str, Any]
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.ready["apiUrl"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"App {self.ready['apiKey']}"}

    def aws_environment(self) -> dict[str, str]:
        """Environment for a program that works on this stack's embedded AWS (publisher, operator CLI)."""
        return {
            **_clean_environment(),
            "AWS_ENDPOINT_URL": self.ready["awsEndpoint"],
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "SWITCHBOARD_TABLE_PREFIX": self.ready["tablePrefix"],
            "SWITCHBOARD_KEYS_SECRET_ID": self.ready["keysSecretId"],
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }

    def publish(self, account_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write events through the outbox (in order, one transaction each) from a separate process."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.support.publish", account_id],
            input=json.dumps(events),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=self.aws_environment(),
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        published: list[dict[str, Any]] = json.loads(result.stdout)
        return published

    def log(self) -> str:
        return "".join(self.output[-200:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _clean_environment() -> dict[str, str]:
    """This process's environment without AWS or Switchboard settings (functional tests set their own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SWITCHBOARD_", "POWERTOOLS_"))}


def start_stack(**environment: str) -> Stack:
    env = {
        **_clean_environment(),
        "SWITCHBOARD_API_PORT": "0",
        "SWITCHBOARD_MEDIA_PORT": "0",
        "PYTHONUNBUFFERED": "1",
        **environment,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if line.startswith(READY):
            return Stack(process, json.loads(line[len(READY) :]), output)
    process.kill()
    raise RuntimeError("the local stack did not start:\n" + "".join(output[-100:]))
