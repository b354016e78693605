"""A room as the SDK sees it: a call whose far end is everyone else in the room."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from chalicelib.contract import signalling as sig
from switchboard_rtc.call import Call

if TYPE_CHECKING:
    from switchboard_rtc.client import RtcClient

ParticipantEvent = sig.ParticipantJoined | sig.ParticipantLeft | sig.ParticipantTalking | sig.ParticipantMediaChanged


class RoomCall(Call):
    def __init__(self, client: RtcClient, call_id: str, room: str, participants: list[sig.Participant]) -> None:
        super().__init__(client, call_id, room, incoming=False)
        self.room = room
        self.participants: dict[str, sig.Participant] = {p.identity: p for p in participants}
        self.talking: set[str] = set()
        self.events: asyncio.Queue[ParticipantEvent] = asyncio.Queue()
        self._state_sends: set[asyncio.Future[None]] = set()
        self.on_established()

    def mute(self, muted: bool = True) -> None:
        """Stop (or resume) sending audio; the others in the room get participant_media_changed."""
        super().mute(muted)
        task = asyncio.ensure_future(self.client.send(sig.MediaState(callId=self.id, muted=muted)))
        self._state_sends.add(task)
        task.add_done_callback(self._state_sends.discard)

    async def leave(self) -> None:
        await self.client.send(sig.LeaveRoom(callId=self.id))
        await self.on_hangup("NORMAL_HANGUP")

    async def hangup(self) -> None:
        await self.leave()

    def on_participant(self, event: ParticipantEvent) -> None:
        identity = event.participant.identity
        match event:
            case sig.ParticipantJoined():
                self.participants[identity] = event.participant
            case sig.ParticipantLeft():
                self.participants.pop(identity, None)
                self.talking.discard(identity)
            case sig.ParticipantTalking():
                (self.talking.add if event.talking else self.talking.discard)(identity)
            case sig.ParticipantMediaChanged():
                self.participants[identity] = event.participant
        self.events.put_nowait(event)
