"""The media image's Dockerfile, read without Docker: its instructions, its build-context ignore patterns, and the
checks `tests/infra` runs on it (no Docker engine runs where the tests do, so the image is checked statically and its
file layout is reproduced and started by the tests instead).

`ignore_patterns` is also what the CDK asset stages with, so `cdk synth`'s copy of the context and `docker build`'s
are the same files.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
DOCKERFILE = "media-fargate/Dockerfile"
DEFAULT_BASE = re.compile(r"^python:3\.11-slim(-[a-z]+)?$")
ROOT_USERS = ("root", "0", "0:0", "root:root")
PYTHONS = ("python", "python3", "python3.11")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    arguments: str  # the rest of the (joined) line


def instructions(text: str) -> list[Instruction]:
    """Instructions in order: comments dropped, backslash continuations joined."""
    parsed: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continuation are skipped by Docker too
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        keyword, _, arguments = full.partition(" ")
        parsed.append(Instruction(keyword.upper(), arguments.strip()))
    return parsed


def exec_form(arguments: str) -> list[str] | None:
    """The JSON array of an exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD, or None for shell form."""
    if not arguments.startswith("["):
        return None
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) and all(isinstance(item, str) for item in value) else None


def _options_and_rest(arguments: str) -> tuple[dict[str, str], str]:
    options: dict[str, str] = {}
    rest = arguments
    while rest.startswith("--"):
        option, _, rest = rest.partition(" ")
        name, _, value = option[2:].partition("=")
        options[name] = value
        rest = rest.strip()
    return options, rest


def copies(parsed: Iterable[Instruction]) -> list[tuple[str, str]]:
    """(source, destination) of every COPY/ADD from the build context (not `--from` another stage)."""
    pairs = []
    for instruction in parsed:
        if instruction.keyword not in ("COPY", "ADD"):
            continue
        options, rest = _options_and_rest(instruction.arguments)
        if "from" in options:
            continue
        paths = exec_form(rest) or shlex.split(rest)
        *sources, destination = paths
        pairs += [(source, destination) for source in sources]
    return pairs


def environment(parsed: Iterable[Instruction]) -> dict[str, str]:
    """ENV in the `KEY=value` form (the only form this Dockerfile uses)."""
    variables = {}
    for instruction in parsed:
        if instruction.keyword == "ENV":
            for assignment in shlex.split(instruction.arguments):
                name, _, value = assignment.partition("=")
                variables[name] = value
    return variables


def last(parsed: Iterable[Instruction], keyword: str) -> Instruction | None:
    found = None
    for instruction in parsed:
        if instruction.keyword == keyword:
            found = instruction
    return found


def command(parsed: list[Instruction]) -> list[str] | None:
    """What the container runs: ENTRYPOINT followed by CMD, both exec form (None if either is shell form)."""
    entrypoint, cmd = last(parsed, "ENTRYPOINT"), last(parsed, "CMD")
    parts: list[str] = []
    for instruction in (entrypoint, cmd):
        if instruction is not None:
            form = exec_form(instruction.arguments)
            if form is None:
                return None
            parts += form
    return parts or None


def healthcheck(parsed: list[Instruction]) -> list[str] | None:
    """The HEALTHCHECK's exec-form command (None without one, for `NONE` or shell form)."""
    instruction = last(parsed, "HEALTHCHECK")
    if instruction is None:
        return None
    _, rest = _options_and_rest(instruction.arguments)
    keyword, _, arguments = rest.partition(" ")
    return exec_form(arguments.strip()) if keyword.upper() == "CMD" else None


def ignore_patterns(dockerfile: Path = PROJECT_DIR / DOCKERFILE) -> list[str]:
    """The patterns of `<Dockerfile>.dockerignore` (BuildKit's per-Dockerfile ignore file)."""
    ignore_file = dockerfile.with_name(dockerfile.name + ".dockerignore")
    lines = (line.strip() for line in ignore_file.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


# --- checks ----------------------------------------------------------------------------------------------------


def problems(text: str, context: Path, *, base: re.Pattern[str] = DEFAULT_BASE) -> list[str]:
    """What is wrong with a media Dockerfile built from `context` (the context as Docker sees it, ignore file applied):
    empty when it has a slim Python 3.11 base, runs as a non-root user, checks /healthz, starts python in exec form
    with SIGTERM as its stop signal, binds 0.0.0.0, installs only pinned requirement files, and copies only paths
    that are in the context."""
    parsed = instructions(text)
    found: list[str] = []
    bases = [instruction.arguments.split()[0] for instruction in parsed if instruction.keyword == "FROM"]
    if len(bases) != 1 or not base.match(bases[0]):
        found.append(f"base image {bases} is not a single slim Python 3.11 image")
    user = last(parsed, "USER")
    if user is None or user.arguments in ROOT_USERS:
        found.append("the container runs as root")
    check = healthcheck(parsed)
    if check is None or not any("/healthz" in part for part in check):
        found.append("no exec-form HEALTHCHECK against /healthz")
    started = command(parsed)
    if started is None:
        found.append("ENTRYPOINT/CMD is missing or in shell form: SIGTERM would reach a shell, not python")
    elif Path(started[0]).name not in PYTHONS:
        found.append(f"the container starts {started}, not python directly")
    stop = last(parsed, "STOPSIGNAL")
    if stop is None or stop.arguments not in ("SIGTERM", "15"):
        found.append("STOPSIGNAL is not SIGTERM")
    if environment(parsed).get("SWITCHBOARD_MEDIA_HOST") != "0.0.0.0":  # noqa: S104 - inside the container, on purpose
        found.append("SWITCHBOARD_MEDIA_HOST is not 0.0.0.0: the node would be unreachable from outside the container")
    found += _install_problems(parsed)
    found += [
        f"COPY {source}: not in the build context" for source, _ in copies(parsed) if not _exists(context, source)
    ]
    return found


def _install_problems(parsed: list[Instruction]) -> list[str]:
    found = []
    for instruction in parsed:
        if instruction.keyword != "RUN":
            continue
        for step in instruction.arguments.split("&&"):
            words = shlex.split(step)
            if words[:2] != ["pip", "install"] and words[:4] != ["python", "-m", "pip", "install"]:
                continue
            arguments = words[words.index("install") + 1 :]
            loose = [
                word
                for index, word in enumerate(arguments)
                if not word.startswith("-") and (index == 0 or arguments[index - 1] != "-r")
            ]
            if loose or "--group" in " ".join(arguments):
                found.append(f"pip installs more than the pinned requirement files: {loose or arguments}")
    return found


def _exists(context: Path, source: str) -> bool:
    relative = source.strip("/")
    if any(character in relative for character in "*?["):
        return any(context.glob(relative))
    return (context / relative).exists()
