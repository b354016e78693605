"""One recording on one audio graph, written as the graph ticks.

The recorder joins the graph as members nobody hears (muted), so the graph hands it, every 20 ms tick, exactly
the PCM it would let such a member hear:
- the *clock* member hears everyone: with composition its mix is the composed file; every tick it also notices
  participants who joined or left (a conference) and counts the recording's length;
- without composition, one member per participant hears only that participant (`hears_only`): its mix is the
  participant's own audio, silence while it is quiet, so each file keeps real time.
Every file gets one frame per tick from when it starts, so files of one recording line up by their start times
(what `chalicelib.recordings.wav.compose` relies on). `hear_as` makes the clock member also hear what is played
to one party only (an application call's prompts reach the call's party alone).

With `video` (the participants' cameras: AUDIO_AND_VIDEO) each file is an `.mp4` (`Mp4Track`) fed the same audio:
a participant's own file shows its own camera, the composed one every participant's in a grid (cameras first,
in `video`'s order, then anyone without one, in a black slot). The composed file follows who is there every tick
(`Mp4Track.show`): in a conference a participant who joins later gets a slot from then on, one who leaves is
removed (its slot turns black and is the next joiner's).
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from chalicelib.core import clock, ids
from chalicelib.recordings.wav import WavWriter
from switchboard_media.engine.graph import AudioGraph
from switchboard_media.engine.seams import InboundTap
from switchboard_media.recording.mp4_track import Mp4Track

log = logging.getLogger(__name__)
FRAME_SECONDS = 0.02


@dataclass
class RecordedFile:
    file_id: str
    call_id: str | None  # the participant; None for the composed file
    path: Path
    start_time: datetime
    end_time: datetime | None = None
    seconds: float = 0.0
    file_format: str = "WAV"  # or MP4
    finished: concurrent.futures.Future[None] | None = None  # an MP4 is on disk (its trailer written) once done


class _Track:
    def __init__(self, file: RecordedFile) -> None:
        self.file = file
        self.writer = WavWriter(file.path)

    def write(self, pcm: np.ndarray) -> None:
        self.writer.write(pcm)

    def close(self) -> RecordedFile:
        self.writer.close()
        self.file.seconds = self.writer.seconds
        self.file.end_time = self.file.end_time or clock.now()
        return self.file


class Recorder:
    def __init__(
        self,
        graph: AudioGraph,
        recording_id: str,
        directory: Path,
        participants: Callable[[], set[str]],
        *,
        composition: bool,
        hear_as: str | None = None,
        max_seconds: float | None = None,
        on_file: Callable[[RecordedFile], None] | None = None,
        on_limit: Callable[[], None] | None = None,
        video: Callable[[], dict[str, InboundTap]] | None = None,
    ) -> None:
        self.graph = graph
        self.recording_id = recording_id
        self.directory = directory
        self.composition = composition
        self._participants = participants
        self._hear_as = hear_as
        self._max_ticks = round(max_seconds / FRAME_SECONDS) if max_seconds else None
        self._on_file = on_file
        self._on_limit = on_limit
        self._video = video
        self._tracks: dict[str, _Track | Mp4Track] = {}  # by participant (or "" for the composed file)
        self._finished: list[RecordedFile] = []
        self.ticks = 0
        self.closed = False
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def clock_name(self) -> str:
        return f"#record:{self.recording_id}"

    def start(self) -> list[RecordedFile]:
        """Join the graph; the files it starts with (the composed one, or one per current participant)."""
        self.graph.add(self.clock_name, mix_listener=self._tick, muted=True, talking_events=False)
        if self.composition:
            self._open("")
        else:
            for call_id in sorted(self._participants()):
                self._open(call_id)
        return [track.file for track in self._tracks.values()]

    def _open(self, key: str) -> _Track | Mp4Track:
        file_id = ids.uuid_id()
        if self._video is None:
            file = RecordedFile(file_id, key or None, self.directory / f"{file_id}.wav", clock.now())
            track: _Track | Mp4Track = _Track(file)
        else:
            file = RecordedFile(file_id, key or None, self.directory / f"{file_id}.mp4", clock.now(), file_format="MP4")
            track = Mp4Track(file, self._cameras(key))
        self._tracks[key] = track
        if key:
            self.graph.add(
                self._member(key), mix_listener=track.write, muted=True, hears_only=key, talking_events=False
            )
        return track

    def _cameras(self, key: str) -> dict[str, InboundTap | None]:
        """The cameras a file shows, by participant: its participant's, or (composed) everyone's."""
        assert self._video is not None
        cameras = self._video()
        if key:
            return {key: cameras.get(key)}
        return {name: cameras.get(name) for name in [*cameras, *sorted(self._participants() - cameras.keys())]}

    def _member(self, call_id: str) -> str:
        return f"{self.clock_name}:{call_id}"

    def _tick(self, pcm: np.ndarray) -> None:
        if self.closed:
            return
        self.ticks += 1
        composed = self._tracks.get("")
        if composed is not None:
            if isinstance(composed, Mp4Track):
                composed.show(self._cameras(""))
            composed.write(pcm)
        else:
            self._follow_participants()
        if self._hear_as is not None:
            self._hear_what(self._hear_as)
        if self._max_ticks is not None and self.ticks >= self._max_ticks and self._on_limit is not None:
            self._max_ticks = None
            self._on_limit()

    def _follow_participants(self) -> None:
        current = self._participants()
        for call_id in current - self._tracks.keys():
            track = self._open(call_id)
            if self._on_file is not None:
                self._on_file(track.file)
        for call_id in set(self._tracks) - current:
            self._finished.append(self._close_track(call_id))

    def _hear_what(self, party: str) -> None:
        for member in list(self.graph.members.values()):
            audience = member.audience
            if audience is not None and party in audience and self.clock_name not in audience:
                member.audience = audience | {self.clock_name}

    def _close_track(self, key: str) -> RecordedFile:
        track = self._tracks.pop(key)
        if key:
            member = self.graph.members.get(self._member(key))
            if member is not None:
                member.mix_listener = None
            self.graph.remove(self._member(key))
        return track.close()

    def close(self) -> list[RecordedFile]:
        """Leave the graph and finish every file (the ones closed earlier included)."""
        if self.closed:
            return []
        self.closed = True
        clock_member = self.graph.members.get(self.clock_name)
        if clock_member is not None:
            clock_member.mix_listener = None
        self.graph.remove(self.clock_name)
        for key in list(self._tracks):
            self._finished.append(self._close_track(key))
        finished, self._finished = self._finished, []
        return finished
