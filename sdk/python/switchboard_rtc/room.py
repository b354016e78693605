"""A room as the SDK sees it: a call whose far end is everyone else in the room."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from chalicelib.contract import signalling as sig
from switchboard_rtc.call import Call

if TYPE_CHECKING:
    from switchboard_rtc.client import RtcClient

ParticipantEvent = sig.ParticipantJoined | sig.ParticipantLeft | sig.ParticipantTalking


class RoomCall(Call):
    def __init__(self, client: RtcClient, call_id: str, room: str, participants: list[sig.Participant]) -> None:
        super().__init__(client, call_id, room, incoming=False)
        self.room = room
        self.participants: dict[str, sig.Participant] = {p.identity: p for p in participants}
        self.talking: set[str] = set()
        self.events: asyncio.Queue[ParticipantEvent] = asyncio.Queue()
        self.on_established()

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
        self.events.put_nowait(event)
