"""The decoded path: an audio graph mixes, every 20 ms tick, what each member hears and encodes it.

Members are participants (decoded input from a leg, encoded output to a leg), sources (audio the node makes: a
player, a prompt) and listeners (something that needs what a member says or hears: DTMF detection, a recorder, a
media stream). By default everyone hears every other active member, never themselves.

What makes it cheap:
- only *active* inputs (louder than `ACTIVE_DBOV` this tick) are mixed; everyone hears the same silence otherwise;
- one encode per distinct mix: members who hear the same set of active inputs share it (in a room, everyone who is
  not talking hears the mix of the talkers: with two talkers a 15-party room encodes three frames per tick, not 15);
- mixing, levels and voice activity are vectorised with numpy; decoding happened as packets arrived.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from switchboard_media.engine.codec import FRAME_SAMPLES, SILENCE, AudioEncoder, level_dbov
from switchboard_media.engine.playout import AudioInput
from switchboard_media.engine.seams import InboundTap, PacketSink
from switchboard_media.engine.stream import OutgoingStream

log = logging.getLogger(__name__)

ACTIVE_DBOV = -60  # quieter than this is left out of every mix (a microphone's noise floor)
TALKING_DBOV, QUIET_DBOV = -36, -42  # voice activity thresholds (the old RMS 600 / 300 of full scale)
TALKING_TICKS, QUIET_TICKS = 3, 25  # 60 ms of voice to start talking, 500 ms of quiet to stop

PcmSource = Callable[[], np.ndarray | None]  # a 960-sample frame per tick, or None when it has nothing
PcmListener = Callable[[np.ndarray], None]
TalkingHandler = Callable[[str, bool], None]


class Voice:
    """Voice activity with hysteresis: starts after TALKING_TICKS loud frames, stops after QUIET_TICKS quiet ones."""

    def __init__(self) -> None:
        self.talking = False
        self._loud = self._quiet = 0

    def update(self, dbov: int) -> bool | None:
        """Returns the new state when it changes."""
        if dbov >= TALKING_DBOV:
            self._loud, self._quiet = self._loud + 1, 0
        elif dbov < QUIET_DBOV:
            self._quiet, self._loud = self._quiet + 1, 0
        if not self.talking and self._loud >= TALKING_TICKS:
            self.talking = True
            return True
        if self.talking and self._quiet >= QUIET_TICKS:
            self.talking = False
            return False
        return None


@dataclass(eq=False)
class Member:
    name: str
    input: AudioInput | None = None
    source: PcmSource | None = None
    output: OutgoingStream | None = None
    mix_listener: PcmListener | None = None  # receives the member's mix as PCM (a recorder, a media stream)
    audience: frozenset[str] | None = None  # who hears this member; None: everyone
    muted: bool = False  # heard by nobody
    deaf: bool = False  # hears nothing
    hears_only: str | None = None  # hears that member and no other (a media stream; a call whose audio it replaces)
    listeners: list[PcmListener] = field(default_factory=list)  # what this member says, every frame as decoded
    voice: Voice = field(default_factory=Voice)
    talking_events: bool = True

    def hears(self, other: Member) -> bool:
        return (
            other is not self
            and not self.deaf
            and not other.muted
            and (self.hears_only is None or other.name == self.hears_only)
            and (other.audience is None or self.name in other.audience)
        )


class AudioGraph:
    def __init__(self, on_talking: TalkingHandler | None = None) -> None:
        self.members: dict[str, Member] = {}
        self._on_talking = on_talking
        self._encoders: dict[tuple[tuple[str, int], tuple[str, ...]], AudioEncoder] = {}
        self._after_tick: list[Callable[[], None]] = []
        self.encodes = 0  # frames encoded (for benchmarks and tests)

    def call_after_tick(self, callback: Callable[[], None]) -> None:
        """Run `callback` once, right after the next tick has sent its frames (a switch away from this graph then
        loses nothing: the next packet is due a full frame later)."""
        self._after_tick.append(callback)

    # --- membership -----------------------------------------------------------------------------------

    def add(self, name: str, output: OutgoingStream | None = None, **options: object) -> Member:
        member = self.members.get(name)
        if member is None:
            member = self.members[name] = Member(name)
        if output is not None:
            member.output = output
        for key, value in options.items():
            setattr(member, key, value)
        return member

    def remove(self, name: str) -> None:
        self.members.pop(name, None)

    def connect(self, name: str, tap: InboundTap, stream: OutgoingStream) -> Member:
        """`name` is a leg: what its tap receives is its input, its mix goes out on `stream`."""
        member = self.add(name, stream)
        tap.sink = self.sink(name)
        return member

    def sink(self, name: str) -> PacketSink:
        """The packet sink that feeds `name`'s input (for an InboundTap)."""
        member = self.add(name)

        def heard(frame: np.ndarray) -> None:
            for listener in member.listeners:
                listener(frame)

        async def push(packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
            if member.input is None or member.input.codec is not codec:
                member.input = AudioInput(codec, heard)
            member.input.push(packet, asyncio.get_running_loop().time())

        return push

    # --- one tick -------------------------------------------------------------------------------------

    async def tick(self, now: float) -> None:
        members = list(self.members.values())
        frames: dict[Member, np.ndarray] = {}
        for member in members:
            frame = member.input.take(now) if member.input is not None else None
            if member.source is not None:
                made = member.source()
                if made is not None:
                    frame = made if frame is None else _mix([frame, made])
            if frame is not None:
                frames[member] = frame
        active: list[Member] = []
        if frames:
            stack = np.stack(list(frames.values())).astype(np.float32)
            levels = _levels(stack)
            for member, level in zip(frames, levels, strict=True):
                if level >= ACTIVE_DBOV:
                    active.append(member)
                self._voice(member, level)
        for member in members:
            if member not in frames:
                self._voice(member, -127)

        groups: dict[tuple[str, ...], list[Member]] = {}
        for member in members:
            if member.mix_listener is None and (member.output is None or not member.output.ready):
                continue
            heard = tuple(other.name for other in active if member.hears(other))
            groups.setdefault(heard, []).append(member)

        used: set[tuple[tuple[str, int], tuple[str, ...]]] = set()
        for heard, listeners in groups.items():
            pcm = _mix([frames[self.members[name]] for name in heard]) if heard else SILENCE
            level = level_dbov(pcm) if heard else -127
            for member in listeners:
                if member.mix_listener is not None:
                    member.mix_listener(pcm)
            senders = [member for member in listeners if member.output is not None and member.output.ready]
            by_codec: dict[tuple[str, int], list[Member]] = {}
            for member in senders:
                assert member.output is not None and member.output.port.codec is not None
                codec = member.output.port.codec
                by_codec.setdefault((codec.mimeType.lower(), codec.clockRate), []).append(member)
            for codec_key, outputs in by_codec.items():
                key = (codec_key, heard)
                used.add(key)
                encoder = self._encoders.get(key)
                if encoder is None:
                    first = outputs[0].output
                    assert first is not None and first.port.codec is not None
                    encoder = self._encoders[key] = AudioEncoder(first.port.codec)
                payloads = encoder.encode(pcm)
                self.encodes += 1
                for member in outputs:
                    assert member.output is not None
                    for payload in payloads:
                        await member.output.send_frame(payload, encoder.frame_length, level)
        for key in [key for key in self._encoders if key not in used]:
            del self._encoders[key]  # a mix nobody hears any more: its encoder state goes with it
        callbacks, self._after_tick = self._after_tick, []
        for callback in callbacks:
            callback()

    def _voice(self, member: Member, level: int) -> None:
        changed = member.voice.update(level)
        if changed is not None and member.talking_events and self._on_talking is not None:
            try:
                self._on_talking(member.name, changed)
            except Exception:
                log.exception("talking handler failed")


def _levels(stack: np.ndarray) -> list[int]:
    """RFC 6465 levels (dBov) of each row of float32 frames, at once."""
    mean_square = np.einsum("ij,ij->i", stack, stack) / (FRAME_SAMPLES * 32767.0 * 32767.0)
    with np.errstate(divide="ignore"):
        db = 10 * np.log10(mean_square)
    return [round(float(value)) if value > -127 else -127 for value in db]


def _mix(frames: list[np.ndarray]) -> np.ndarray:
    if len(frames) == 1:
        return frames[0]
    total = np.sum(np.stack(frames).astype(np.int32), axis=0)
    return np.clip(total, -32768, 32767).astype(np.int16)
