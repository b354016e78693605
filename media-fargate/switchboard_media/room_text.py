"""A room's text (`data` on a room seat): to everyone else in the room, or to one participant (`to`, an identity,
on every seat it has in the room). Each recipient's SDK acknowledges the text (`data_received`); the sender hears
one `data_delivered` once every recipient has acknowledged it or is gone (left, or dropped: a seat that comes back
does not get the text again), naming those that acknowledged it. A sender that drops and comes back still hears it.
Text to a room with nobody else in it is answered at once as not delivered.

This module only keeps the books (no I/O): `RoomManager` relays the text and sends what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.contract import signalling as sig
from switchboard_media.calls import CallError

UNACKNOWLEDGED_LIMIT = 256  # per sender: texts still waiting for their recipients


@dataclass
class Delivery:
    sender_leg: str
    message_id: str
    to: str | None  # a direct message's recipient (None: everyone else in the room)
    waiting: set[str]  # the recipients' leg ids still to acknowledge
    recipients: list[str] = field(default_factory=list)  # identities that acknowledged it, in that order

    @property
    def complete(self) -> bool:
        return not self.waiting

    def notice(self) -> sig.DataDelivered:
        return sig.DataDelivered(
            callId=self.sender_leg,
            messageId=self.message_id,
            to=self.to,
            recipients=self.recipients,
            delivered=bool(self.recipients),
        )


class RoomText:
    def __init__(self) -> None:
        self._deliveries: dict[tuple[str, str], Delivery] = {}  # by (sender leg, message id)

    def start(self, sender_leg: str, message_id: str, to: str | None, recipients: set[str]) -> Delivery:
        """Book a text the sender sends to the seats `recipients` (leg ids); a complete delivery (nobody to wait for)
        is not kept."""
        if (sender_leg, message_id) in self._deliveries:
            raise CallError("DUPLICATE_MESSAGE", f"message {message_id} was already sent")
        if sum(1 for leg, _ in self._deliveries if leg == sender_leg) >= UNACKNOWLEDGED_LIMIT:
            raise CallError("TOO_MANY_UNACKNOWLEDGED", "wait for earlier messages to be delivered")
        delivery = Delivery(sender_leg, message_id, to, set(recipients))
        if not delivery.complete:
            self._deliveries[(sender_leg, message_id)] = delivery
        return delivery

    def acknowledged(self, leg_id: str, identity: str, message_id: str) -> Delivery | None:
        """The seat `leg_id` (of `identity`) has the text `message_id`: the delivery, once complete."""
        for key, delivery in self._deliveries.items():
            if delivery.message_id == message_id and leg_id in delivery.waiting:
                delivery.waiting.discard(leg_id)
                delivery.recipients.append(identity)
                if delivery.complete:
                    del self._deliveries[key]
                    return delivery
                return None
        raise CallError("UNKNOWN_MESSAGE", f"no message {message_id} awaits this seat")

    def gone(self, leg_id: str, left: bool) -> list[Delivery]:
        """The seat `leg_id` dropped (`left`: or left the room): it no longer holds up the others' texts (returns
        those that are now complete); once it has left, its own texts are forgotten."""
        completed = []
        for key, delivery in list(self._deliveries.items()):
            if delivery.sender_leg == leg_id and left:
                del self._deliveries[key]
            elif leg_id in delivery.waiting:
                delivery.waiting.discard(leg_id)
                if delivery.complete:
                    del self._deliveries[key]
                    completed.append(delivery)
        return completed
