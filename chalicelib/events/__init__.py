"""The event pipeline: outbox (write) → fan-out (stream → queue) → delivery (queue → webhook) → dead letters.

Domain services call `outbox.publish`; everything after that runs in the consumers wired in `app.py`.
"""
