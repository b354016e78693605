"""Node ↔ node: a 1:1 WebRTC call anchored on the caller's node rings the callee's devices on another live node.

The anchor (the caller's node) keeps the call — its call records, its media (both parties' WHIP sessions) and its
rules — and treats the callee's devices on another node as one remote party. Only signalling crosses nodes:

    anchor → callee's node
    POST /internal/v1/remote-calls/{legId}/ring     RemoteRing → 200 (its devices ring: incoming_call), 404 (none)
    POST /internal/v1/remote-calls/{legId}/deliver  RemoteDelivery → 200, 404 (the leg is not here any more)
    POST /internal/v1/remote-calls/{legId}/alive    RemotePartyRef → 200 while the leg is here, else 404
    callee's node → anchor
    POST /internal/v1/remote-calls/{legId}/relay    RemoteRelay → 200, or 4xx {error, text} (the call refused it)
    POST /internal/v1/remote-calls/{legId}/gone     RemotePartyRef → 200 (the leg's devices all went away)

`legId` is the callee's leg. `partyId` names one remote party (one node's devices for one call), so an anchor that
rang the identity on two nodes tells them apart. Requests are signed like the control API's
(`chalicelib.contract.control.signed_headers`, the deployment's control key). Pydantic only: both sides import it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REMOTE_CALLS_PREFIX = "/internal/v1/remote-calls"
REMOTE_ACTIONS = ("ring", "deliver", "alive", "relay", "gone")


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RemotePartyRef(_Body):
    partyId: str = Field(min_length=1, max_length=64)


class RemoteRing(RemotePartyRef):
    """Ring `identity` of `accountId` (only that account's devices) for the call whose callee leg is in the path."""

    accountId: str = Field(min_length=1, max_length=128)
    identity: str = Field(min_length=3, max_length=64)
    anchorUrl: str = Field(min_length=1, max_length=2048, pattern=r"^https?://")
    fromIdentity: str = Field(min_length=1, max_length=128)
    fromDisplayName: str | None = Field(default=None, max_length=128)
    video: bool = False


class RemoteDelivery(RemotePartyRef):
    """A signalling message (`chalicelib.contract.signalling`, node → client) for the leg's devices."""

    message: dict[str, Any]


class RemoteRelay(RemotePartyRef):
    """A signalling message (client → node) the callee sent about its leg, for the anchor to handle, and the sending
    device's token's recording capability (the anchor's WebRTC recording rules read it once it answered)."""

    message: dict[str, Any]
    recording: str | None = Field(default=None, max_length=16)
