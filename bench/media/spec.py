"""What the orchestrator asks of one load-generator run (passed as JSON on its command line)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Spec:
    scenario: str  # "calls" | "room" | "delay"
    node: str  # "stock" | "engine" | "direct"
    url: str = ""
    pid: int = 0
    token_key: str = ""
    count: int = 1  # calls, or the room's size
    talkers: int = 2
    everyone: bool = True  # room: then a second window with everyone talking
    warmup: float = 3.0
    window: float = 10.0
    profile: bool = False  # signal the node to profile the (first) window
