"""How the media bench prints: one line per run as it finishes, then the summary table and the profiles."""

from __future__ import annotations

import math
import pstats
import re
from pathlib import Path
from typing import Any

REAL_TIME = 0.995  # of frames on time
CLIENT_SLIP = 0.020  # the load generator's send lateness (p99) above which a run says so
CLIENT_BUSY = 0.85  # of a core
NOISE = 0.10  # of a core used by other processes during a window
IDLE_FUNCTIONS = ("<method 'poll' of 'select.epoll' objects>", "<method 'select' of 'select.epoll' objects>")
PROFILE_TOP = 10
PROFILE_PACKAGES = 8
MB = 1024 * 1024
COLUMNS = ("stock", "pass-through", "decoded")
HEADERS = ("stock aiortc", "engine pass-through", "engine decoded")


def noisy(result: dict[str, Any]) -> bool:
    """Another process (or the hypervisor) took a noticeable share of the node's or the client's core."""
    return bool(max(result.get("other_on_node_core", 0.0), result.get("other_on_client_core", 0.0)) > NOISE)


def client_limited(result: dict[str, Any]) -> bool:
    return bool(
        result.get("send_late_p99", 0.0) > CLIENT_SLIP
        or result.get("send_skipped", 0) > 0
        or result.get("client_cpu", 0.0) > CLIENT_BUSY
    )


def real_time(result: dict[str, Any]) -> bool:
    return "error" not in result and result.get("failed_legs", 1) == 0 and result["on_time_fraction"] >= REAL_TIME


def _error(result: dict[str, Any]) -> str:
    return f"FAILED: {result['error'].strip().splitlines()[-1][:160]}"


def _client(result: dict[str, Any]) -> str:
    text = (
        f"client CPU {result['client_cpu'] * 100:3.0f} %, send late p99 {result['send_late_p99'] * 1000:5.1f} ms"
        f" max {result['send_late_max'] * 1000:5.1f} ms"
    )
    others = result["other_on_node_core"] * 100, result["other_on_client_core"] * 100
    text += f"; others on core 0 / 1: {others[0]:.0f} / {others[1]:.0f} %"
    if client_limited(result):
        text += "  << LIMITED BY THE CLIENT"
    if noisy(result):
        text += "  << NOISY MACHINE"
    return text


def _window(result: dict[str, Any], calls: int | None = None) -> str:
    per_call = f" ({result['node_cpu'] * 100 / calls:4.1f} %/call)" if calls else ""
    failed = f", {result['failed_legs']} legs never connected" if result.get("failed_legs") else ""
    return (
        f"on time {result['on_time_fraction'] * 100:6.2f} % (worst {result['worst_lateness'] * 1000:4.0f} ms late), "
        f"node CPU {result['node_cpu'] * 100:5.1f} %{per_call}{failed}; {_client(result)}"
    )


def delay_line(column: str, result: dict[str, Any], direct: dict[str, Any] | None) -> None:
    if "error" in result:
        print(f"  delay  {column:13s} {_error(result)}")
        return
    added = ""
    if direct is not None and "error" not in direct:
        added = f"  added p50 {_ms(result['p50'] - direct['p50'])} / p95 {_ms(result['p95'] - direct['p95'])}"
    print(
        f"  delay  {column:13s} p50 {_ms(result['p50'])} p95 {_ms(result['p95'])} "
        f"({len(result['delays'])}/{result['bursts']} bursts){added}"
    )


def calls_line(column: str, count: int, result: dict[str, Any]) -> None:
    if "error" in result:
        print(f"  calls  {column:13s} N={count:3d}  {_error(result)}")
    else:
        print(f"  calls  {column:13s} N={count:3d}  {_window(result, count)}")


def room_line(column: str, result: dict[str, Any]) -> None:
    if "error" in result:
        print(f"  room   {column:13s} {_error(result)}")
        return
    talkers = f"{result['spec']['talkers']} talkers:"
    print(f"  room   {column:13s} {talkers:12s} {_window(result['talkers'])}")
    if "everyone" in result:
        print(f"  room   {column:13s} all talking: {_window(result['everyone'])}")


def _ms(seconds: float) -> str:
    return "   n/a" if math.isnan(seconds) else f"{seconds * 1000:5.1f} ms"


# --- the summary --------------------------------------------------------------------------------------


def _capacity(runs: dict[int, dict[str, Any]]) -> tuple[str, str]:
    """The largest N that kept real time, and the CPU per call there (or at the smallest N when none did)."""
    if not runs:
        return "not run", ""
    counts = sorted(runs)
    passing = [n for n in counts if real_time(runs[n])]
    best = passing[-1] if passing else None
    if best is None:
        text = f"< {counts[0]}"
    elif best == counts[-1]:
        text = f">= {best}"
    else:
        text = str(best)
    measured = runs[best if best is not None else counts[0]]
    # the runs the figure rests on: the last that kept real time and the first that did not
    above = [n for n in counts if best is None or n > best][:1]
    deciding = [runs[n] for n in ([best] if best is not None else []) + above if "error" not in runs[n]]
    if any(client_limited(run) for run in deciding):
        text += " *"
    if any(noisy(run) for run in deciding):
        text += " ~"
    if "error" in measured:
        return text, "failed"
    n = best if best is not None else counts[0]
    return text, f"{measured['node_cpu'] * 100 / n:.1f} % (N={n})"


def _memory(runs: dict[int, dict[str, Any]]) -> str:
    """Node RSS growth per leg from the idle node, at the largest N that kept real time (an overloaded node also
    holds queued media); in brackets the marginal per leg between the two largest such N."""
    fine = {n: r for n, r in runs.items() if real_time(r)} or {n: r for n, r in runs.items() if "error" not in r}
    if not fine:
        return "n/a"
    counts = sorted(fine)
    top = fine[counts[-1]]
    text = f"{(top['rss'] - top['rss_idle']) / (2 * counts[-1]) / MB:.2f} MB (N={counts[-1]}"
    if len(counts) > 1:
        low = fine[counts[-2]]
        text += f", {(top['rss'] - low['rss']) / (2 * (counts[-1] - counts[-2])) / MB:+.2f}"
    return text + ")"


def _delay(result: dict[str, Any] | None, direct: dict[str, Any]) -> str:
    if result is None or "error" in result or "error" in direct:
        return "failed" if result is not None else "not run"
    return f"{(result['p50'] - direct['p50']) * 1000:.1f} / {(result['p95'] - direct['p95']) * 1000:.1f} ms"


def _room(result: dict[str, Any] | None, phase: str, key: str) -> str:
    if result is None:
        return "not run"
    if "error" in result:
        return "failed"
    window = result[phase]
    if key == "on_time":
        return f"{window['on_time_fraction'] * 100:.2f} %"
    return (
        f"{window['node_cpu'] * 100:.0f} %" + (" *" if client_limited(window) else "") + (" ~" if noisy(window) else "")
    )


def summary(results: dict[str, Any]) -> None:
    calls = results["calls"]
    capacity = {column: _capacity(calls.get(column, {})) for column in COLUMNS}
    direct = results["delay"].get("direct", {"error": "not run"})
    room_stock, room_engine = results["room"].get("stock"), results["room"].get("pass-through")
    rows = [
        ("2-party calls in real time (>= 99.5 % on time)", *(capacity[c][0] for c in COLUMNS), ">= 40 / >= 15"),
        ("  node CPU per call, % of one core", *(capacity[c][1] for c in COLUMNS), ""),
        (
            "15-party room, 2 talkers: node CPU of one core",
            _room(room_stock, "talkers", "cpu"),
            "(rooms always mix)",
            _room(room_engine, "talkers", "cpu"),
            "<= 35 %",
        ),
        (
            "15-party room, all 15 talking: node CPU",
            _room(room_stock, "everyone", "cpu"),
            "",
            _room(room_engine, "everyone", "cpu"),
            "",
        ),
        (
            "15-party room, 2 talkers: mixes on time",
            _room(room_stock, "talkers", "on_time"),
            "",
            _room(room_engine, "talkers", "on_time"),
            "",
        ),
        (
            "added mouth-to-ear delay, p50 / p95",
            *(_delay(results["delay"].get(c), direct) for c in COLUMNS),
            "<= 30 / 50 ms",
        ),
        ("memory per leg (marginal)", *(_memory(calls.get(c, {})) for c in COLUMNS), "<= 5 MB"),
    ]
    header = ("metric", *HEADERS, "target")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    nice = results["delay"].get("direct", {}).get("nice")
    print(
        "\n  node and load generator ran at "
        + (f"nice {nice}" if nice is not None else "normal priority (raising it was not permitted)")
        + " (BENCH_MEDIA_NICE)"
    )
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  " + " | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    if any("*" in str(cell) for row in rows for cell in row):
        print(
            "  * the load generator itself slipped in at least one of these runs (see the run lines): that figure is"
            " limited by the client, not the node."
        )
    if any("~" in str(cell) for row in rows for cell in row):
        print(
            f"  ~ other processes used more than {NOISE * 100:.0f} % of the node's or the client's core in at least"
            " one of these runs: that figure is noisy."
        )
    print(
        "  calls: every leg sends a 1 kHz tone. delay: added = through the node - client to client directly "
        f"({_ms(direct.get('p50', math.nan)).strip()} p50).\n  memory: node RSS growth from idle, per leg, at the "
        "largest N that kept real time; then the marginal per leg between the two largest such N."
    )
    for name, (result, path) in results["profile"].items():
        profile(name, result, path)


def _package(filename: str, function: str) -> str:
    """Where a profiled function lives, coarsely: a package, the engine, the standard library, a C type's module."""
    if filename == "~":  # a C function: "<method 'x' of 'module.type' objects>" or "<built-in method module.x>"
        found = re.search(r"of '([\w.]+)' objects", function) or re.search(r"built-in method ([\w.]+)", function)
        name = found.group(1) if found else "builtins"
        return name.split(".")[0].lstrip("_") if "." in name else "builtins"
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    if "switchboard_media" in parts:
        return "switchboard_media." + parts[parts.index("switchboard_media") + 1].removesuffix(".py")
    parent = parts[-2] if len(parts) > 1 else ""
    return "stdlib" if parent.startswith("python3") else parent


def profile(name: str, result: dict[str, Any], path: str) -> None:
    file = Path(path)
    written = file.exists() and file.stat().st_size > 0
    if "error" in result or not written:
        file.unlink(missing_ok=True)
        print(f"\n  profile: {name}: {_error(result) if 'error' in result else 'no profile written'}")
        return
    window = result.get("talkers", result)
    stats = pstats.Stats(str(file)).stats  # type: ignore[attr-defined]
    file.unlink()
    busy_rows = [(row[2], key) for key, row in stats.items() if key[2] not in IDLE_FUNCTIONS]
    busy = sum(own for own, _ in busy_rows) or 1.0
    print(
        f"\n  where the engine's CPU goes: {name} (node CPU {window['node_cpu'] * 100:.0f} % of a core under "
        "cProfile, which inflates Python code against C; % of the node's busy event-loop time, by own time)"
    )
    for own, (filename, line, function) in sorted(busy_rows, reverse=True)[:PROFILE_TOP]:
        where = "/".join(Path(filename).parts[-2:]) + f":{line}" if filename != "~" else "C"
        print(f"    {own / busy * 100:5.1f} %  {function}  ({where})")
    packages: dict[str, float] = {}
    for own, (filename, _, function) in busy_rows:
        package = _package(filename, function)
        packages[package] = packages.get(package, 0.0) + own
    ranked = sorted(packages.items(), key=lambda item: -item[1])[:PROFILE_PACKAGES]
    print("    by package: " + ", ".join(f"{package} {own / busy * 100:.0f} %" for package, own in ranked))
