"""The showcase (`GET /showcase`): a page like Infobip's rtc-showcase, for trying calls, rooms, screen share and
chat in a browser against a local or dev deployment. It signs a visitor in as any identity they type, with a token
for one demo account minted by `POST /showcase/token`.

That endpoint hands out tokens without credentials, so it exists only where that is harmless: in `prod` both routes
answer 404 like an unknown path, and elsewhere they work only once the operator has named the demo account
(`SWITCHBOARD_SHOWCASE_ACCOUNT_ID`; `make run` sets it to its development account). The stage is checked on each
request, not when routes are registered, because nothing may read settings at import time.
"""
