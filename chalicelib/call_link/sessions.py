"""A page's call session: the WebRTC token it calls with, and what the page reports about its call.

- A session exists only for an ACTIVE link. Its token is minted here (as `POST /webrtc/1/token` would) for the
  link's identity, or for an identity made from the name the user typed (which becomes the display name). The
  token goes to this one response only (`Cache-Control: no-store`); the page proves later reports with the
  session's secret, stored as its SHA-256.
- A protected ROOM takes its password first: `MAX_WRONG_PASSWORDS` wrong ones lock the link's sessions for
  `LOCK_TIME`.
- A WEBRTC destination takes one caller at a time: the session holds the link's lease, renewed by the page's
  heartbeats and released when the call ends (or left to expire when a page vanishes). Rooms take anyone.
- A one-time link is used when a call through it starts: the page reports ESTABLISHED with its call id, and the
  call's record must show that call answered, from this session's identity. A room never uses a link up.
- The page reports FINISHED (with its call's id) when its call or room ends: the session ends once, and the
  configuration's status webhook gets the session's event (`status.py`).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import timedelta

from chalicelib.call_link import repository, status
from chalicelib.call_link.errors import (
    CallLinkResourceNotFound,
    DestinationBusy,
    InvalidField,
    PasswordLocked,
    WrongPassword,
)
from chalicelib.call_link.links import ResolvedLink, resolve
from chalicelib.call_link.schemas import SessionReport, SessionRequest, SessionResponse
from chalicelib.calls import repository as calls
from chalicelib.core import clock, crypto, ids
from chalicelib.core.errors import Conflict
from chalicelib.db.models import CallLinkSession
from chalicelib.webrtc import service as webrtc
from chalicelib.webrtc.schemas import TokenRequest

MAX_WRONG_PASSWORDS = 5
LOCK_TIME = timedelta(minutes=15)
LEASE = timedelta(seconds=60)
TOKEN_TTL_SECONDS = 2 * 3600
SESSION_RETENTION = timedelta(days=2)


def session_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _active(code: str) -> ResolvedLink:
    link = resolve(code)
    if link is None:
        raise CallLinkResourceNotFound("Call link", code)
    if link.state != "ACTIVE":
        raise Conflict(f"The call link is {link.state.lower()}.")
    return link


def _check_password(link: ResolvedLink, password: str | None) -> None:
    item = link.item
    if not item.password_hash:
        return
    if item.locked_until is not None and item.locked_until > clock.now():
        raise PasswordLocked()
    if password and crypto.verify_password(password, item.password_hash):
        repository.clear_wrong_passwords(item)
        return
    wrong = repository.count_wrong_password(item)
    if wrong >= MAX_WRONG_PASSWORDS:
        repository.lock(item, clock.now() + LOCK_TIME)
        raise PasswordLocked()
    raise WrongPassword(MAX_WRONG_PASSWORDS - wrong)


def identity_for(name: str) -> str:
    """An identity for a typed name: its letters and digits (others become '-'), and a random suffix."""
    letters = "".join(ch if ch.isalnum() else "-" for ch in unicodedata.normalize("NFC", name))
    slug = "-".join(part for part in letters.split("-") if part)[:40] or "guest"
    return f"{slug}-{ids.base62(6)}"


def _who(link: ResolvedLink, request: SessionRequest) -> tuple[str, str | None]:
    identity = link.document.get("identity")
    if identity:
        return identity, link.document.get("displayName") or request.displayName
    if not request.displayName:
        raise InvalidField("displayName", "is required: the link names no user, so the page asks for a name")
    return identity_for(request.displayName), request.displayName


def start_session(code: str, request: SessionRequest) -> SessionResponse:
    link = _active(code)
    _check_password(link, request.password)
    identity, display_name = _who(link, request)
    secret = ids.base62(40)
    key, now = session_key(secret), clock.now()
    if link.item.destination_type == "WEBRTC" and not repository.take_lease(link.item, key, now + LEASE, now):
        raise DestinationBusy()
    account_id = link.item.account_id
    token = webrtc.mint_token(
        account_id, TokenRequest(identity=identity, displayName=display_name, timeToLive=TOKEN_TTL_SECONDS)
    )
    repository.create_session(
        CallLinkSession(
            key,
            account_id=account_id,
            code=code,
            identity=identity,
            display_name=display_name,
            created_at=now,
            expires_at=now + SESSION_RETENTION,
        )
    )
    return SessionResponse(
        sessionId=secret,
        token=token.token,
        identity=identity,
        displayName=display_name,
        expirationTime=token.expirationTime,
    )


def _session(code: str, secret: str | None) -> CallLinkSession:
    session = repository.get_session(session_key(secret)) if secret and len(secret) <= 128 else None
    if session is None or session.code != code:
        raise CallLinkResourceNotFound("Call link session", "(given)")
    return session


def _call_started(session: CallLinkSession, call_id: str | None) -> bool:
    """Whether the call record shows this session's call answered (what the page says is not enough)."""
    record = calls.get(session.account_id, call_id) if call_id else None
    return record is not None and record.from_ == session.identity and record.answer_time is not None


def report(code: str, secret: str | None, event: SessionReport) -> dict[str, str]:
    session = _session(code, secret)
    link = repository.get_link(code)
    if link is None:
        raise CallLinkResourceNotFound("Call link", code)
    now = clock.now()
    if event.status == "HEARTBEAT":
        if session.ended_at is None and link.destination_type == "WEBRTC":
            repository.take_lease(link, session.session_key, now + LEASE, now)
        return {"status": "OK"}
    if event.status == "ESTABLISHED":
        if link.destination_type != "ROOM" and not _call_started(session, event.callId):
            raise InvalidField("callId", "names no answered call of this session")
        repository.mark_session(session, "established_at", now)
        if link.destination_type != "ROOM" and json.loads(link.document)["validityWindow"]["oneTime"]:
            repository.mark_used(link, now)
        return {"status": "OK"}
    status.end_session(link, session, event.callId, now)
    if link.destination_type == "WEBRTC":
        repository.release_lease(link, session.session_key)
    return {"status": "OK"}
