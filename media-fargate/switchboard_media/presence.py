"""Who is online on this node: identities (per account) → their connected sessions (several devices allowed)."""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol


class Session(Protocol):
    account_id: str
    identity: str
    display_name: str | None
    recording: str | None  # the token's `capabilities.recording` (ALWAYS | ON_DEMAND | DISABLED), None if unset

    async def send(self, message: object) -> None: ...


class Presence:
    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str], set[Session]] = defaultdict(set)

    def add(self, session: Session) -> None:
        self._sessions[(session.account_id, session.identity)].add(session)

    def remove(self, session: Session) -> None:
        key = (session.account_id, session.identity)
        self._sessions[key].discard(session)
        if not self._sessions[key]:
            del self._sessions[key]

    def devices(self, account_id: str, identity: str) -> list[Session]:
        return list(self._sessions.get((account_id, identity), ()))

    def __len__(self) -> int:
        return sum(len(sessions) for sessions in self._sessions.values())
