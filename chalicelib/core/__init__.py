"""Cross-cutting pieces every domain uses: settings, errors, the HTTP edge, auth, ids, clock, crypto,
outbound-URL policy and observability. Nothing here touches the environment or AWS at import time."""
