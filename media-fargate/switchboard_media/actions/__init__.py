"""Call actions' media building blocks: DTMF detection and generation, speech synthesis, audio decoding, playback.

Pure pieces with no networking and no aiortc: each plugs into an audio graph as a source (a callable returning the
next 960-sample frame, or None) or a listener (a callable receiving each frame a member says). The media node's call
actions wire them to legs, requests and events.
"""

from switchboard_media.actions.audio import MAX_AUDIO_SECONDS, decode_audio
from switchboard_media.actions.dtmf import DtmfDetector, dtmf_tones
from switchboard_media.actions.errors import (
    ActionError,
    AudioError,
    AudioTooLong,
    InvalidSpeechRequest,
    SpeechEngineError,
    SpeechError,
    SpeechRequestError,
    UndecodableAudio,
    UnsupportedLanguage,
)
from switchboard_media.actions.player import Player
from switchboard_media.actions.telephone_event import TelephoneEvent, TelephoneEventPacket, telephone_event_packets
from switchboard_media.actions.tts import EspeakProvider, SpeechProvider

__all__ = [
    "MAX_AUDIO_SECONDS",
    "ActionError",
    "AudioError",
    "AudioTooLong",
    "DtmfDetector",
    "EspeakProvider",
    "InvalidSpeechRequest",
    "Player",
    "SpeechEngineError",
    "SpeechError",
    "SpeechProvider",
    "SpeechRequestError",
    "TelephoneEvent",
    "TelephoneEventPacket",
    "UndecodableAudio",
    "UnsupportedLanguage",
    "decode_audio",
    "dtmf_tones",
    "telephone_event_packets",
]
