"""The stock baseline: a media node built the way a stock aiortc server is, for the bench to compare against.

Every received packet goes through aiortc's own pipeline (jitter buffer, decoder thread), a track relays the decoded
frames (a call) or a numpy mixer mixes them (a room), and aiortc re-encodes what each leg hears on its encoder thread.
This is the engine the media node had before its own (`RelayTrack`, `Leg`, `connect`, `Mixer`, `MixOutput`, trimmed to
audio); the bench keeps it so that every run measures both on the same machine.

Bench-only HTTP, bound to 127.0.0.1, no authentication:
    POST /calls?count=N   → {"calls": [[legA, legB], ...]}   N two-party calls, each leg hearing the other
    POST /rooms?size=N    → {"legs": [...]}                  one room: each leg hears the mix of the others
    POST /whip/{leg}      application/sdp offer → 201 with the answer

Run as `python -m bench.media.stock`: pinned to core 0, it prints `READY {"url": ..., "pid": ...}` once serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import os
import signal
import uuid
from collections import deque

import numpy as np
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from bench.media.cores import NODE_CORE, pin, prioritise

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
CHANNELS = 2
VALUES = FRAME_SAMPLES * CHANNELS
TICK = FRAME_SAMPLES / SAMPLE_RATE
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
MAX_QUEUED = 5
TALKING_RMS, QUIET_RMS = 600.0, 300.0
TALKING_TICKS, QUIET_TICKS = 3, 25


class RelayTrack(MediaStreamTrack):
    """Outgoing audio toward one leg: frames from a source track when one is attached, paced silence otherwise."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._source: MediaStreamTrack | None = None
        self._samples = 0
        self._started: float | None = None

    def attach(self, source: MediaStreamTrack | None) -> None:
        self._source = source

    def _stamp(self, frame: AudioFrame) -> AudioFrame:
        frame.pts = self._samples
        frame.time_base = TIME_BASE
        self._samples += frame.samples
        return frame

    async def _silence(self) -> AudioFrame:
        loop = asyncio.get_running_loop()
        if self._started is None:
            self._started = loop.time() - self._samples / SAMPLE_RATE
        wait = self._started + self._samples / SAMPLE_RATE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = AudioFrame(format="s16", layout="stereo", samples=FRAME_SAMPLES)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = SAMPLE_RATE
        return frame

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        source = self._source
        if source is not None and source.readyState == "live":
            try:
                frame = await source.recv()
                self._started = None
                return self._stamp(frame)  # type: ignore[arg-type]
            except MediaStreamError:
                self._source = None
        return self._stamp(await self._silence())


class MixOutput(MediaStreamTrack):
    """One room participant's outgoing audio: the mixes the mixer pushes, in order."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[np.ndarray] = asyncio.Queue(MAX_QUEUED)
        self._samples = 0

    def push(self, pcm: np.ndarray) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(pcm)

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pcm = await self._queue.get()
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._samples
        frame.time_base = TIME_BASE
        self._samples += FRAME_SAMPLES
        return frame


class Voice:
    """The stock mixer's voice activity (RMS hysteresis): computed every tick, as the product did."""

    def __init__(self) -> None:
        self.talking = False
        self._loud = self._quiet = 0

    def update(self, rms: float) -> None:
        if rms >= TALKING_RMS:
            self._loud, self._quiet = self._loud + 1, 0
        elif rms < QUIET_RMS:
            self._quiet, self._loud = self._quiet + 1, 0
        if not self.talking and self._loud >= TALKING_TICKS:
            self.talking = True
        elif self.talking and self._quiet >= QUIET_TICKS:
            self.talking = False


class Mixer:
    """Every 20 ms, one decoded frame from each participant and, for each, the sum of everyone else's (mix-minus)."""

    def __init__(self) -> None:
        self._inputs: dict[str, deque[np.ndarray]] = {}
        self._outputs: dict[str, MixOutput] = {}
        self._voices: dict[str, Voice] = {}
        self._readers: list[asyncio.Task[None]] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, participant: str, output: MixOutput) -> None:
        self._inputs[participant] = deque(maxlen=MAX_QUEUED)
        self._outputs[participant] = output
        self._voices[participant] = Voice()
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def feed(self, participant: str, track: MediaStreamTrack) -> None:
        self._readers.append(asyncio.ensure_future(self._read(participant, track)))

    async def _read(self, participant: str, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                pcm = np.frombuffer(bytes(frame.planes[0]), dtype=np.int16)[:VALUES]
                if len(pcm) == VALUES:
                    self._inputs[participant].append(pcm)

    def mix_once(self) -> None:
        participants = list(self._outputs)
        frames = np.zeros((len(participants), VALUES), dtype=np.int32)
        for row, participant in enumerate(participants):
            queue = self._inputs[participant]
            if queue:
                frames[row] = queue.popleft()
        total = frames.sum(axis=0)
        mixes = np.clip(total[np.newaxis, :] - frames, -32768, 32767).astype(np.int16)
        for row, participant in enumerate(participants):
            self._outputs[participant].push(mixes[row])
        levels = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
        for row, participant in enumerate(participants):
            self._voices[participant].update(float(levels[row]))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            self.mix_once()
            next_tick += TICK
            delay = next_tick - loop.time()
            if delay < -10 * TICK:
                next_tick = loop.time()
                delay = 0
            await asyncio.sleep(max(delay, 0))


class Leg:
    """One participant's media session: an RTCPeerConnection answered over WHIP."""

    def __init__(self, outgoing_audio: MediaStreamTrack | None = None) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.outgoing_audio: MediaStreamTrack = outgoing_audio or RelayTrack()
        self.incoming_audio: MediaStreamTrack | None = None
        self.incoming_ready = asyncio.Event()

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self.incoming_audio = track
                self.incoming_ready.set()

    async def answer(self, offer_sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        audio = [t for t in self.pc.getTransceivers() if t.kind == "audio"]
        if not audio:
            raise ValueError("the offer has no audio")
        audio[0].sender.replaceTrack(self.outgoing_audio)
        audio[0].direction = "sendrecv"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    async def close(self) -> None:
        self.outgoing_audio.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()


async def connect(a: Leg, b: Leg) -> None:
    """Each leg hears the other, as soon as the other's audio arrives."""

    async def audio(source: Leg, target: Leg) -> None:
        await source.incoming_ready.wait()
        assert isinstance(target.outgoing_audio, RelayTrack)
        target.outgoing_audio.attach(source.incoming_audio)

    await asyncio.gather(audio(a, b), audio(b, a))


class StockNode:
    def __init__(self) -> None:
        self.legs: dict[str, Leg] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        self._mixers: list[Mixer] = []

    def _keep(self, task: asyncio.Future[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _new_leg(self, outgoing_audio: MediaStreamTrack | None = None) -> str:
        leg_id = f"stock-{uuid.uuid4().hex[:12]}"
        self.legs[leg_id] = Leg(outgoing_audio)
        return leg_id

    async def calls(self, request: web.Request) -> web.Response:
        pairs = []
        for _ in range(int(request.query.get("count", "1"))):
            a, b = self._new_leg(), self._new_leg()
            self._keep(asyncio.ensure_future(connect(self.legs[a], self.legs[b])))
            pairs.append([a, b])
        return web.json_response({"calls": pairs})

    async def rooms(self, request: web.Request) -> web.Response:
        mixer = Mixer()
        self._mixers.append(mixer)
        legs = []
        for _ in range(int(request.query.get("size", "15"))):
            output = MixOutput()
            leg_id = self._new_leg(output)
            mixer.add(leg_id, output)
            self._keep(asyncio.ensure_future(self._feed(mixer, leg_id)))
            legs.append(leg_id)
        return web.json_response({"legs": legs})

    async def _feed(self, mixer: Mixer, leg_id: str) -> None:
        leg = self.legs[leg_id]
        await leg.incoming_ready.wait()
        assert leg.incoming_audio is not None
        mixer.feed(leg_id, leg.incoming_audio)

    async def whip(self, request: web.Request) -> web.Response:
        leg = self.legs.get(request.match_info["leg_id"])
        if leg is None:
            return web.json_response({"error": "UNKNOWN_LEG"}, status=404)
        answer = await leg.answer(await request.text())
        return web.Response(status=201, text=answer, content_type="application/sdp")

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/calls", self.calls)
        app.router.add_post("/rooms", self.rooms)
        app.router.add_post("/whip/{leg_id}", self.whip)
        return app

    async def close(self) -> None:
        await asyncio.gather(*(leg.close() for leg in self.legs.values()), return_exceptions=True)


async def serve() -> None:
    node = StockNode()
    runner = web.AppRunner(node.application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    print("READY " + json.dumps({"url": f"http://{host}:{port}", "pid": os.getpid()}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await asyncio.wait_for(node.close(), 10)
    await runner.cleanup()


def main() -> None:
    pin(NODE_CORE)  # before aiortc's codec threads start: they inherit it
    prioritise()
    asyncio.run(serve())


if __name__ == "__main__":
    main()
