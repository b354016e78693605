"""MOS estimates and Infobip's quality levels; the monitor reports changes only."""

from __future__ import annotations

import asyncio

import pytest

from switchboard_media.quality import LinkStats, QualityMonitor, level, mos


def test_a_clean_link_is_excellent_and_impairments_lower_the_score():
    clean = mos(LinkStats(0.0, 2, 5))
    assert clean > 4.3 and level(clean) == "EXCELLENT"
    lossy = mos(LinkStats(0.05, 2, 5))
    late = mos(LinkStats(0.0, 60, 600))
    assert lossy < clean and late < clean
    assert level(mos(LinkStats(0.1, 50, 400))) == "BAD"
    assert level(3.8) == "FAIR" and level(4.0) == "GOOD" and level(3.2) == "POOR"


@pytest.mark.parametrize("score", [1.0, 2.5, 3.59, 3.99])
def test_below_four_is_at_most_fair(score):
    assert level(score) in {"FAIR", "POOR", "BAD"}


@pytest.mark.asyncio
async def test_the_monitor_reports_only_changes():
    samples = iter([None, LinkStats(0, 1, 1), LinkStats(0, 1, 2), LinkStats(0.12, 40, 300), LinkStats(0, 1, 1)])
    reports: list[str] = []

    async def sample():
        return next(samples)

    async def report(quality: str, score: float) -> None:
        reports.append(quality)

    monitor = QualityMonitor(sample, report, interval=0.01)
    for _ in range(5):
        await monitor.check()
    assert reports == ["EXCELLENT", "BAD", "EXCELLENT"]
    assert asyncio.get_running_loop()  # ran inside a loop


def test_the_negotiated_audio_clock_rate_is_read_from_the_answer():
    from switchboard_media.quality import audio_clock_rate

    sdp = (
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0 111\r\na=rtpmap:111 opus/48000/2\r\n"
        "a=rtpmap:0 PCMU/8000\r\nm=video 9 x\r\n"
    )
    assert audio_clock_rate(sdp) == 8000
    assert audio_clock_rate(sdp.replace("SAVPF 0 111", "SAVPF 111 0")) == 48000
    assert audio_clock_rate("") == 48000
