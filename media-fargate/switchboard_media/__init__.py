"""Switchboard's media node (aiortc): signalling, WHIP-style offer/answer, the media engine (the media issue)."""
