"""Switchboard's Python SDK: the same calls as the JavaScript SDK (modelled on Infobip's `infobip-rtc`), in Python
style, over aiortc. Audio sources and sinks are pluggable, so programs and tests can send known audio and inspect
what they receive.

    client = await RtcClient.connect(node_url, token)
    call = await client.call_webrtc("bob", audio_source=ToneSource(1000), audio_sink=AudioSink())
    await call.established()
    ...
    await call.hangup()
"""

from switchboard_rtc.audio import AudioSink, MutableAudio, ToneSource
from switchboard_rtc.call import Call, CallEnded, CallEvent
from switchboard_rtc.client import RtcClient, RtcError
from switchboard_rtc.room import RoomCall
from switchboard_rtc.video import ColorSource, VideoSink

__all__ = [
    "AudioSink",
    "Call",
    "CallEnded",
    "CallEvent",
    "ColorSource",
    "MutableAudio",
    "RoomCall",
    "RtcClient",
    "RtcError",
    "ToneSource",
    "VideoSink",
]
