"""`python -m tests.support.publish <accountId>` with a JSON list of events on stdin: writes each through the
outbox (as a domain service would) against the embedded AWS in the environment; prints the envelopes."""

from __future__ import annotations

import json
import sys

from chalicelib.events.envelope import NewEvent
from chalicelib.events.outbox import publish


def main() -> None:
    account_id = sys.argv[1]
    published = []
    for event in json.load(sys.stdin):
        (envelope,) = publish(account_id, [NewEvent(**event)])
        published.append(envelope.model_dump(exclude_none=True))
    json.dump(published, sys.stdout)


if __name__ == "__main__":
    main()
