"""Rooms (`join_room(name)`): every participant hears the mix of the others, never themselves (an `AudioGraph` on
the node's tick: one encode per distinct mix). Participants join, leave (or drop) and start/stop talking; each hears
about the others. A room is per account and name and lives on this node; it has a participant limit
(SWITCHBOARD_MEDIA_ROOM_LIMIT, default 15). Video is forwarded, not mixed: a participant that joins with video
sends its camera and sees the others' on a fixed number of video slots (`RoomVideo`; SWITCHBOARD_MEDIA_ROOM_VIDEO_SLOTS,
default 8, at most the limit - 1); a camera turned off (`media_state`) is no longer forwarded. A seat with video can
also share its screen (a second source, shown before the cameras). Text goes to everyone else in the room or to one
participant, acknowledged (`RoomText`)."""

from __future__ import annotations

import asyncio
import functools
import uuid
from dataclasses import dataclass, field

from chalicelib.contract import signalling as sig
from switchboard_media.calls import CallError
from switchboard_media.engine.graph import AudioGraph
from switchboard_media.engine.leg import Leg
from switchboard_media.engine.ticker import Ticker
from switchboard_media.presence import Session
from switchboard_media.room_text import Delivery, RoomText
from switchboard_media.room_video import RoomVideo, screen_source, video_slots
from switchboard_media.settings import NodeSettings
from switchboard_media.tickets import Tickets


@dataclass
class Seat:
    leg_id: str
    session: Session
    media: Leg
    feeding: asyncio.Future[None] | None = None
    muted: bool = False
    camera: bool = False
    screen_share: bool = False
    expiry: asyncio.TimerHandle | None = None  # set while the participant is disconnected
    video_slots: int = 0  # how many of the others' cameras it can see (0: it joined without video)

    @property
    def participant(self) -> sig.Participant:
        return sig.Participant(
            identity=self.session.identity,
            displayName=self.session.display_name,
            muted=self.muted,
            camera=self.camera,
            screenShare=self.screen_share,
        )


@dataclass
class Room:
    account_id: str
    name: str
    graph: AudioGraph
    seats: dict[str, Seat] = field(default_factory=dict)
    video: RoomVideo = field(default_factory=RoomVideo)
    text: RoomText = field(default_factory=RoomText)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def announce(
        self,
        make: type[sig.ParticipantJoined] | type[sig.ParticipantLeft] | type[sig.ParticipantMediaChanged],
        about: Seat,
    ) -> None:
        for seat in self.seats.values():
            if seat is not about:
                await seat.session.send(make(callId=seat.leg_id, participant=about.participant))


class RoomManager:
    def __init__(self, settings: NodeSettings, tickets: Tickets, base_url: str, ticker: Ticker) -> None:
        self._settings = settings
        self._ticker = ticker
        self._tickets = tickets
        self._base_url = base_url
        self._rooms: dict[tuple[str, str], Room] = {}
        self._seats: dict[str, Room] = {}  # leg id -> room
        self._notices: set[asyncio.Future[None]] = set()

    def has_leg(self, leg_id: str) -> bool:
        return leg_id in self._seats

    def __len__(self) -> int:
        return len(self._seats)

    async def join(self, session: Session, request: sig.JoinRoom) -> None:
        key = (session.account_id, request.room)
        room = self._rooms.get(key)
        if room is None:
            room = self._rooms[key] = self._new_room(session.account_id, request.room)
        async with room.lock:
            if len(room.seats) >= self._settings.room_limit:
                raise CallError("ROOM_FULL", f"room {request.room} has {self._settings.room_limit} participants")
            leg_id = f"room-{uuid.uuid4()}"
            slots = min(self._settings.room_limit - 1, self._settings.room_video_slots) if request.video else 0
            seat = Seat(leg_id, session, self._media(leg_id, slots), camera=request.video, video_slots=slots)
            room.seats[leg_id] = seat
            self._seats[leg_id] = room
            await self._welcome(room, seat, request.requestId)
            await room.announce(sig.ParticipantJoined, seat)

    async def rejoin(self, session: Session, request: sig.RejoinRoom) -> None:
        """Give a reconnecting participant its seat back, with a fresh media session; the others see no change."""
        room = self._seats.get(request.callId)
        seat = room.seats.get(request.callId) if room is not None else None
        same_user = seat is not None and (seat.session.account_id, seat.session.identity) == (
            session.account_id,
            session.identity,
        )
        if room is None or seat is None or not same_user:
            raise CallError("UNKNOWN_CALL", f"no room seat {request.callId} to rejoin")
        async with room.lock:
            if seat.expiry is not None:
                seat.expiry.cancel()
                seat.expiry = None
            seat.session = session
            if seat.feeding is not None:
                seat.feeding.cancel()
            room.video.disconnect(seat.leg_id)
            await self._show_video(room)
            await seat.media.close()
            seat.media = self._media(seat.leg_id, seat.video_slots)
            await self._welcome(room, seat, request.requestId)

    def _media(self, leg_id: str, video_slots: int) -> Leg:
        return Leg(leg_id, self._settings.ice_servers, video_slots=video_slots)

    async def _welcome(self, room: Room, seat: Seat, request_id: str) -> None:
        seat.feeding = asyncio.ensure_future(self._feed(room, seat))
        others = [s.participant for s in room.seats.values() if s is not seat]
        await seat.session.send(
            sig.RoomJoined(
                requestId=request_id,
                callId=seat.leg_id,
                room=room.name,
                participants=others,
                videoSlots=seat.video_slots,
            )
        )
        whip_url = f"{self._base_url}/whip/{seat.leg_id}"
        await seat.session.send(
            sig.Media(callId=seat.leg_id, whipUrl=whip_url, ticket=self._tickets.issue(seat.leg_id))
        )

    async def media_state(self, session: Session, message: sig.MediaState) -> None:
        """A participant muted/unmuted, switched its camera or its screen share (only a seat with video has one): the
        others hear about it (when it changed)."""
        room, seat = self._own_seat(session, message.callId)
        state = (message.muted, message.camera, message.screenShare and seat.video_slots > 0)
        if (seat.muted, seat.camera, seat.screen_share) == state:
            return
        seat.muted, seat.camera, seat.screen_share = state
        await room.announce(sig.ParticipantMediaChanged, seat)
        await self._show_video(room)

    async def send_data(self, session: Session, message: sig.SendData) -> None:
        """Relay text to everyone else in the room (or to `message.to`'s seats); the sender hears `data_delivered`
        once they have all acknowledged it (or gone)."""
        room, seat = self._own_seat(session, message.callId)
        others = [s for s in room.seats.values() if s is not seat and s.expiry is None]  # connected ones
        if message.to is not None:
            others = [s for s in others if s.session.identity == message.to]
            if not others:
                raise CallError("UNKNOWN_PARTICIPANT", f"{message.to} is not connected to this room")
        delivery = room.text.start(seat.leg_id, message.messageId, message.to, {s.leg_id for s in others})
        for other in others:
            text = {
                "callId": other.leg_id,
                "messageId": message.messageId,
                "from": session.identity,
                "text": message.text,
                "direct": message.to is not None,
            }
            await other.session.send(sig.DataMessage.model_validate(text))
        if delivery.complete:  # nobody else is here
            await session.send(delivery.notice())

    async def data_received(self, session: Session, message: sig.DataReceived) -> None:
        room, seat = self._own_seat(session, message.callId)
        delivery = room.text.acknowledged(seat.leg_id, session.identity, message.messageId)
        if delivery is not None:
            await self._delivered(room, [delivery])

    async def _delivered(self, room: Room, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            sender = room.seats.get(delivery.sender_leg)
            if sender is not None:
                await sender.session.send(delivery.notice())

    def _own_seat(self, session: Session, leg_id: str) -> tuple[Room, Seat]:
        room = self._seats.get(leg_id)
        seat = room.seats.get(leg_id) if room is not None else None
        if room is None or seat is None or seat.session is not session:
            raise CallError("UNKNOWN_CALL", f"no room seat {leg_id} for this session")
        return room, seat

    async def leave(self, session: Session, leg_id: str) -> None:
        room = self._seats.get(leg_id)
        if room is None or room.seats[leg_id].session is not session:
            raise CallError("UNKNOWN_CALL", f"no room seat {leg_id} for this session")
        await self._remove(room, leg_id)

    async def session_closed(self, session: Session) -> None:
        """Keep a dropped participant's seat for the grace period: it may come back (rejoin_room)."""
        loop = asyncio.get_running_loop()
        for leg_id, room in list(self._seats.items()):
            seat = room.seats[leg_id]
            if seat.session is session and seat.expiry is None:
                seat.expiry = loop.call_later(
                    self._settings.reconnect_grace_seconds, functools.partial(self._expire, room, leg_id)
                )
                await self._delivered(room, room.text.gone(leg_id, left=False))

    def _expire(self, room: Room, leg_id: str) -> None:
        task = asyncio.ensure_future(self._remove(room, leg_id))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def whip_offer(self, leg_id: str, ticket: str, offer_sdp: str) -> str:
        if not self._tickets.check(leg_id, ticket):
            raise CallError("UNAUTHORIZED", "the media ticket is missing, expired or not for this leg")
        room = self._seats.get(leg_id)
        if room is None:
            raise CallError("UNKNOWN_CALL", f"no media session for {leg_id}")
        return await room.seats[leg_id].media.answer(offer_sdp)

    async def shutdown(self) -> None:
        for room in list(self._rooms.values()):
            for leg_id in list(room.seats):
                await self._remove(room, leg_id)

    def _new_room(self, account_id: str, name: str) -> Room:
        holder: list[Room] = []
        room = Room(account_id, name, AudioGraph(lambda leg_id, talking: self._talking(holder[0], leg_id, talking)))
        holder.append(room)
        return room

    async def _feed(self, room: Room, seat: Seat) -> None:
        """Once the seat's media is up, its audio goes into the room's graph and the graph's mix to it."""
        media = seat.media
        await media.media_ready()
        if room.seats.get(seat.leg_id) is not seat or seat.media is not media:
            return
        assert media.audio_in is not None and media.audio_out is not None
        room.graph.connect(seat.leg_id, media.audio_in, media.audio_out)
        self._ticker.add(room.graph)
        room.video.connect(seat.leg_id, media)
        await self._show_video(room)

    async def _show_video(self, room: Room) -> None:
        """Deal the cameras that are on to the seats' video slots; each seat whose slots changed hears about it."""
        screens = [screen_source(seat.leg_id) for seat in room.seats.values() if seat.screen_share]
        changed = room.video.assign(screens + [seat.leg_id for seat in room.seats.values() if seat.camera])
        identities = {seat.leg_id: seat.session.identity for seat in room.seats.values()}
        for leg_id, slots in changed.items():
            await room.seats[leg_id].session.send(video_slots(leg_id, slots, identities))

    def _talking(self, room: Room, leg_id: str, talking: bool) -> None:
        seat = room.seats.get(leg_id)
        if seat is None:
            return
        for other in room.seats.values():
            if other is not seat:
                notice = sig.ParticipantTalking(callId=other.leg_id, participant=seat.participant, talking=talking)
                task = asyncio.ensure_future(other.session.send(notice))
                self._notices.add(task)
                task.add_done_callback(self._notices.discard)

    async def _remove(self, room: Room, leg_id: str) -> None:
        async with room.lock:
            seat = room.seats.pop(leg_id, None)
            self._seats.pop(leg_id, None)
            if seat is None:
                return
            if seat.expiry is not None:
                seat.expiry.cancel()
            if seat.feeding is not None:
                seat.feeding.cancel()
            room.graph.remove(leg_id)
            room.video.disconnect(leg_id)
            await self._delivered(room, room.text.gone(leg_id, left=True))
            await self._show_video(room)
            await seat.media.close()
            await room.announce(sig.ParticipantLeft, seat)
            if not room.seats:
                self._ticker.discard(room.graph)
                self._rooms.pop((room.account_id, room.name), None)
