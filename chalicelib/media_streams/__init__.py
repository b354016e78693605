"""Infobip's media-stream configurations (`/calls/1/media-stream-configs`): where a call's audio is streamed over a
websocket, and with which credentials. The media node asks `service.connection_for` when it opens a stream."""
