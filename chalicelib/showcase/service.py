"""Whether the showcase exists here, its page, and its demo tokens (minted like `POST /webrtc/1/token`, for the demo
account)."""

from __future__ import annotations

import functools
from importlib import resources

from chalicelib.accounts import service as accounts
from chalicelib.core.errors import Forbidden, NotFound
from chalicelib.core.settings import get_settings
from chalicelib.showcase.schemas import ShowcaseTokenRequest
from chalicelib.webrtc import service as webrtc
from chalicelib.webrtc.schemas import TokenResponse

NO_DEMO_ACCOUNT = (
    "The showcase has no demo account on this deployment: set SWITCHBOARD_SHOWCASE_ACCOUNT_ID to the id of the "
    "account its tokens belong to (make run sets it to the development account)."
)


def require_showcase() -> None:
    """The showcase does not exist in production: its routes answer exactly as an unknown path does."""
    if get_settings().stage == "prod":
        raise NotFound()


def page() -> str:
    require_showcase()
    return _page()


@functools.cache
def _page() -> str:
    return (resources.files("chalicelib.showcase") / "static" / "index.html").read_text(encoding="utf-8")


def demo_account_id() -> str:
    account_id = get_settings().showcase_account_id
    if not account_id:
        raise Forbidden(NO_DEMO_ACCOUNT)
    try:
        accounts.describe(account_id)
    except NotFound:
        raise Forbidden(f"The showcase's demo account {account_id} does not exist.") from None
    return account_id


def mint_token(request: ShowcaseTokenRequest) -> TokenResponse:
    require_showcase()
    return webrtc.mint_token(demo_account_id(), request)
