"""A room's video: every seat that joined with video sends its camera and has a fixed number of video slots
(receive-only video sections of its offer, so nothing is ever renegotiated). The room shows the others' cameras on
a seat's slots and tells the seat which participant is on which slot (`video_slots`).

A seat's screen share (a send-only video section it offers after its camera's: its media's `screen_in`) is a second
source, named `<leg id>#screen`.

Forwarding is `VideoFanout` (no decoding: each packet is re-stamped into every slot showing it). Assignments are
stable: a camera keeps its slot until it goes (its participant leaves, drops or turns the camera off), or until a
screen share needs a slot and none is free (it takes the slot of the last camera shown: a presentation is never
hidden behind cameras); a freed slot goes to the next source waiting, screen shares first, then cameras in the
order the participants joined. Sources beyond a seat's slots are not shown to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.contract import signalling as sig
from switchboard_media.engine.leg import Leg
from switchboard_media.engine.stream import OutgoingStream
from switchboard_media.engine.video import VideoFanout


@dataclass
class Slot:
    mid: str
    stream: OutgoingStream
    showing: str | None = None  # the source on it: a leg id (its camera) or `screen_source(leg id)`


def screen_source(leg_id: str) -> str:
    return f"{leg_id}{SCREEN}"


SCREEN = "#screen"


class RoomVideo:
    """Sources (cameras by leg id, screen shares by `screen_source(leg id)`) and the slots that show them."""

    def __init__(self) -> None:
        self._cameras: dict[str, VideoFanout] = {}
        self._slots: dict[str, list[Slot]] = {}  # by the viewer's leg id
        self._changed: set[str] = set()  # viewers whose slots changed since the last `assign`

    def connect(self, leg_id: str, media: Leg) -> None:
        """The seat's media is up: its camera can be shown, its slots can show the others."""
        self.disconnect(leg_id)
        if media.video_in is not None:
            self._cameras[leg_id] = VideoFanout(media.video_in)
        if media.screen_in is not None:
            self._cameras[screen_source(leg_id)] = VideoFanout(media.screen_in)
        if media.video_slots:
            self._slots[leg_id] = [Slot(mid, stream) for mid, stream in media.video_slots.items()]
            self._changed.add(leg_id)

    def disconnect(self, leg_id: str) -> None:
        """The seat left, or its media is being replaced: its camera and its slots go."""
        for slot in self._slots.pop(leg_id, []):
            self._hide(slot)
        self._changed.discard(leg_id)
        for source in (leg_id, screen_source(leg_id)):
            camera = self._cameras.pop(source, None)
            if camera is None:
                continue
            camera.close()
            for viewer, slots in self._slots.items():
                for slot in slots:
                    if slot.showing == source:
                        slot.showing = None
                        self._changed.add(viewer)

    def assign(self, cameras_on: list[str]) -> dict[str, list[Slot]]:
        """Show the sources that are on (screen shares, then cameras by leg id in joining order) on the slots; a
        screen share with no free slot takes the slot of the last camera shown. Returns the viewers whose slots
        changed, with all their slots."""
        for viewer, slots in self._slots.items():
            wanted = [
                source for source in cameras_on if source.removesuffix(SCREEN) != viewer and source in self._cameras
            ]
            for slot in slots:
                if slot.showing is not None and slot.showing not in wanted:
                    self._hide(slot)
                    self._changed.add(viewer)
            self._make_room_for_screens(viewer, slots, wanted)
            shown = {slot.showing for slot in slots}
            free = (slot for slot in slots if slot.showing is None)
            for leg_id, slot in zip((c for c in wanted if c not in shown), free, strict=False):
                slot.showing = leg_id
                self._cameras[leg_id].add(slot.stream)
                self._changed.add(viewer)
        changed = {viewer: self._slots[viewer] for viewer in self._changed if viewer in self._slots}
        self._changed.clear()
        return changed

    def _make_room_for_screens(self, viewer: str, slots: list[Slot], wanted: list[str]) -> None:
        """Free a camera's slot (the last camera in `wanted`'s order first) for each screen share not shown yet."""
        shown = {slot.showing for slot in slots}
        waiting = [source for source in wanted if source.endswith(SCREEN) and source not in shown]
        free = sum(1 for slot in slots if slot.showing is None)
        cameras = sorted(
            (slot for slot in slots if slot.showing is not None and not slot.showing.endswith(SCREEN)),
            key=lambda slot: wanted.index(slot.showing) if slot.showing in wanted else len(wanted),
        )
        for slot in reversed(cameras):
            if free >= len(waiting):
                break
            self._hide(slot)
            self._changed.add(viewer)
            free += 1

    def _hide(self, slot: Slot) -> None:
        camera = self._cameras.get(slot.showing) if slot.showing is not None else None
        if camera is not None:
            camera.remove(slot.stream)
        slot.showing = None


def video_slots(leg_id: str, slots: list[Slot], identities: dict[str, str]) -> sig.VideoSlots:
    """The `video_slots` message for the seat `leg_id` (`identities`: leg id -> identity)."""
    return sig.VideoSlots(callId=leg_id, slots=[_shown(slot, identities) for slot in slots])


def _shown(slot: Slot, identities: dict[str, str]) -> sig.VideoSlot:
    source = slot.showing or ""
    identity = identities.get(source.removesuffix(SCREEN))
    return sig.VideoSlot(mid=slot.mid, identity=identity, source="screen" if source.endswith(SCREEN) else "camera")
