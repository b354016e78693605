"""Switchboard's media node (aiortc): signalling, WHIP-style offer/answer, the media engine. Built in the media issue."""
