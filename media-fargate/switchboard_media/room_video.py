"""A room's video: every seat that joined with video sends its camera and has a fixed number of video slots
(receive-only video sections of its offer, so nothing is ever renegotiated). The room shows the others' cameras on
a seat's slots and tells the seat which participant is on which slot (`video_slots`).

Forwarding is `VideoFanout` (no decoding: each packet is re-stamped into every slot showing it). Assignments are
stable: a camera keeps its slot until it goes (its participant leaves, drops or turns the camera off); a freed slot
goes to the next camera waiting, in the order the participants joined. Cameras beyond a seat's slots are not shown
to it.
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
    showing: str | None = None  # the leg id of the camera on it


class RoomVideo:
    """Cameras (by leg id) and the slots that show them."""

    def __init__(self) -> None:
        self._cameras: dict[str, VideoFanout] = {}
        self._slots: dict[str, list[Slot]] = {}  # by the viewer's leg id
        self._changed: set[str] = set()  # viewers whose slots changed since the last `assign`

    def connect(self, leg_id: str, media: Leg) -> None:
        """The seat's media is up: its camera can be shown, its slots can show the others."""
        self.disconnect(leg_id)
        if media.video_in is not None:
            self._cameras[leg_id] = VideoFanout(media.video_in)
        if media.video_slots:
            self._slots[leg_id] = [Slot(mid, stream) for mid, stream in media.video_slots.items()]
            self._changed.add(leg_id)

    def disconnect(self, leg_id: str) -> None:
        """The seat left, or its media is being replaced: its camera and its slots go."""
        for slot in self._slots.pop(leg_id, []):
            self._hide(slot)
        self._changed.discard(leg_id)
        camera = self._cameras.pop(leg_id, None)
        if camera is None:
            return
        camera.close()
        for viewer, slots in self._slots.items():
            for slot in slots:
                if slot.showing == leg_id:
                    slot.showing = None
                    self._changed.add(viewer)

    def assign(self, cameras_on: list[str]) -> dict[str, list[Slot]]:
        """Show the cameras that are on (leg ids, in joining order) on the slots; returns the viewers whose slots
        changed, with all their slots."""
        for viewer, slots in self._slots.items():
            wanted = [leg_id for leg_id in cameras_on if leg_id != viewer and leg_id in self._cameras]
            for slot in slots:
                if slot.showing is not None and slot.showing not in wanted:
                    self._hide(slot)
                    self._changed.add(viewer)
            shown = {slot.showing for slot in slots}
            free = (slot for slot in slots if slot.showing is None)
            for leg_id, slot in zip((c for c in wanted if c not in shown), free, strict=False):
                slot.showing = leg_id
                self._cameras[leg_id].add(slot.stream)
                self._changed.add(viewer)
        changed = {viewer: self._slots[viewer] for viewer in self._changed if viewer in self._slots}
        self._changed.clear()
        return changed

    def _hide(self, slot: Slot) -> None:
        camera = self._cameras.get(slot.showing) if slot.showing is not None else None
        if camera is not None:
            camera.remove(slot.stream)
        slot.showing = None


def video_slots(leg_id: str, slots: list[Slot], identities: dict[str, str]) -> sig.VideoSlots:
    """The `video_slots` message for the seat `leg_id` (`identities`: leg id -> identity)."""
    return sig.VideoSlots(
        callId=leg_id,
        slots=[sig.VideoSlot(mid=slot.mid, identity=identities.get(slot.showing or "")) for slot in slots],
    )
