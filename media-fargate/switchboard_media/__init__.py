"""Switchboard's media node: one aiohttp process serving the signalling websocket, WHIP-style offer/answer for media
sessions, and the media engine (aiortc). Call records and their events go through the control plane's own domain
services (`chalicelib.calls`), so an event is produced the same way wherever the change happened."""
