"""The media container, without a Docker engine: the Dockerfile is parsed and checked against the build context the
CDK asset actually staged (its ignore file applied), and the image's file layout, environment and entrypoint are
reproduced in a temporary root and started: the node answers its HEALTHCHECK and exits cleanly on SIGTERM."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.cdk import dockerfile

TEXT = (dockerfile.PROJECT_DIR / dockerfile.DOCKERFILE).read_text()


PREFIX = "switchboard-image-"


def _dynamodb(aws: dict[str, str]) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=aws["AWS_ENDPOINT_URL"],
        region_name=aws["AWS_REGION"],
        aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def aws() -> Iterator[dict[str, str]]:
    """moto on loopback with the platform's tables, for the node's registry heartbeat (no process-wide env change)."""
    from moto.server import ThreadedMotoServer

    from infra.local.aws import create_table
    from infra.resources import TABLES

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    environment = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "SWITCHBOARD_TABLE_PREFIX": PREFIX,
    }
    client = _dynamodb(environment)
    for spec in TABLES:
        create_table(client, spec, PREFIX)
    try:
        yield environment
    finally:
        server.stop()


@pytest.fixture(scope="module")
def staged(synthesized: Any) -> tuple[Path, dict[str, Any]]:
    """The build context as `cdk deploy` hands it to `docker build`, and its asset entry."""
    stack = synthesized[1]
    directory = Path(stack.assembly.directory)
    (assets,) = directory.glob("*.assets.json")
    manifest = json.loads(assets.read_text())
    (image,) = manifest["dockerImages"].values()
    return directory / image["source"]["directory"], image["source"]


def test_the_image_is_built_from_the_media_dockerfile_for_amd64(staged):
    _, source = staged
    assert source["dockerFile"] == dockerfile.DOCKERFILE
    assert source["platform"] == "linux/amd64"


def test_the_dockerfile_passes_every_check_against_the_staged_context(staged):
    context, _ = staged
    assert dockerfile.problems(TEXT, context) == []


def test_the_staged_context_is_only_what_the_image_copies(staged):
    context, _ = staged
    top = sorted(path.name for path in context.iterdir())
    assert top == ["chalicelib", "media-fargate", "requirements.txt"]
    assert sorted(path.name for path in (context / "media-fargate").iterdir()) == [
        "Dockerfile",
        "requirements.txt",
        "switchboard_media",
    ]
    assert not list(context.rglob("__pycache__"))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: t.replace("FROM python:3.11-slim-bookworm", "FROM python:3.11"), "slim Python 3.11"),
        (lambda t: t.replace("USER 10001", "USER root"), "runs as root"),
        (lambda t: re.sub(r"HEALTHCHECK(.|\n)*?\n\n", "", t), "HEALTHCHECK"),
        (
            lambda t: t.replace('ENTRYPOINT ["python", "-m", "switchboard_media"]', "CMD python -m switchboard_media"),
            "shell form",
        ),
        (
            lambda t: t.replace('["python", "-m", "switchboard_media"]', '["sh", "-c", "python -m switchboard_media"]'),
            "not python directly",
        ),
        (lambda t: t.replace("STOPSIGNAL SIGTERM", "STOPSIGNAL SIGKILL"), "STOPSIGNAL"),
        (lambda t: t.replace("SWITCHBOARD_MEDIA_HOST=0.0.0.0", "SWITCHBOARD_MEDIA_HOST=127.0.0.1"), "0.0.0.0"),
        (
            lambda t: t.replace("/tmp/requirements/media.txt \\", "/tmp/requirements/media.txt pytest ruff \\"),
            "more than the pinned requirement files",
        ),
        (
            lambda t: t.replace("COPY --chown=root:root chalicelib/", "COPY --chown=root:root app.py"),
            "COPY app.py: not in the build context",
        ),
    ],
)
def test_each_check_catches_its_mistake(staged, change, problem):
    context, _ = staged
    broken = change(TEXT)
    assert broken != TEXT
    found = dockerfile.problems(broken, context)
    assert len(found) == 1 and problem in found[0], found


def test_instructions_join_continuations_and_skip_comments():
    parsed = dockerfile.instructions('# c\nFROM a\nRUN one \\\n  # inner\n  two\nCMD ["x"]\n')
    assert [(i.keyword, i.arguments) for i in parsed] == [("FROM", "a"), ("RUN", "one two"), ("CMD", '["x"]')]
    assert dockerfile.command(parsed) == ["x"]
    assert dockerfile.copies(dockerfile.instructions("COPY --from=build /a /b\nCOPY x y z/\n")) == [
        ("x", "z/"),
        ("y", "z/"),
    ]


def _ready_line(node: subprocess.Popen[str], limit: int = 100) -> str:
    """The node's ready line; other stdout lines (its EMF metrics) may come first. Fails with the node's stderr,
    read only once the node is stopped, so a node that never gets ready cannot hang the test."""
    assert node.stdout is not None
    for _ in range(limit):
        line = node.stdout.readline()
        if line.startswith("SWITCHBOARD_MEDIA_READY ") or not line:
            break
    if not line.startswith("SWITCHBOARD_MEDIA_READY "):
        node.kill()
        _, errors = node.communicate(timeout=10)
        raise AssertionError(f"the node did not get ready: {errors[-2000:]}")
    return line


def test_the_images_layout_starts_answers_its_healthcheck_and_drains_on_sigterm(staged, tmp_path, aws):
    # What `docker run` would do, minus Docker: files where COPY puts them, ENV, WORKDIR, the exec-form entrypoint.
    context, _ = staged
    parsed = dockerfile.instructions(TEXT)
    root = tmp_path / "image"
    for source, destination in dockerfile.copies(parsed):
        if destination.startswith("/tmp/"):
            continue  # requirement files: the test runs on this checkout's environment instead
        shutil.copytree(context / source, root / destination.strip("/"))
    image_env = {
        name: ":".join(str(root / p.strip("/")) for p in value.split(":")) if name == "PYTHONPATH" else value
        for name, value in dockerfile.environment(parsed).items()
    }
    workdir = root / dockerfile.last(parsed, "WORKDIR").arguments.strip("/")  # type: ignore[union-attr]
    env = {
        "PATH": os.environ["PATH"],
        **aws,
        **image_env,
        "SWITCHBOARD_MEDIA_PORT": "0",
        "SWITCHBOARD_TOKEN_KEY": base64.b64encode(b"k" * 32).decode(),
        "SWITCHBOARD_CONTROL_KEY": base64.b64encode(b"c" * 32).decode(),
        "SWITCHBOARD_MEDIA_NODE_ID": "image-test",
    }
    command = dockerfile.command(parsed)
    assert command is not None and command[0] == "python"
    node = subprocess.Popen(
        [sys.executable, *command[1:]], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert node.stdout is not None
        ready = _ready_line(node)
        port = json.loads(ready.split(" ", 1)[1])["url"].rsplit(":", 1)[1]
        probe = dockerfile.healthcheck(parsed)
        assert probe is not None and probe[0] == "python"
        health = subprocess.run([sys.executable, *probe[1:]], env={**env, "SWITCHBOARD_MEDIA_PORT": port}, timeout=10)
        assert health.returncode == 0
        registry = _dynamodb(aws).get_item(TableName=PREFIX + "media-nodes", Key={"node_id": {"S": "image-test"}})
        assert registry["Item"]["status"] == {"S": "UP"}
        started = time.monotonic()
        node.send_signal(signal.SIGTERM)
        assert node.wait(timeout=15) == 0
        assert time.monotonic() - started < 15
        loaded = subprocess.run(
            [
                sys.executable,
                "-c",
                "import chalicelib, switchboard_media; print(chalicelib.__file__, switchboard_media.__file__)",
            ],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert all(path.startswith(str(root)) for path in loaded.stdout.split())
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()
