"""What the call actions raise. The caller maps the request errors to a 4xx and the rest to an ERROR event or a 5xx:

ActionError
├── AudioError
│   ├── UndecodableAudio            not WAV or MP3, or corrupt (4xx on upload; ERROR event on play)
│   └── AudioTooLong                longer than the decoder's bound (4xx on upload; ERROR event on play)
└── SpeechError
    ├── SpeechRequestError          the request cannot be spoken as asked (4xx)
    │   ├── UnsupportedLanguage     not a language we know, or no installed voice speaks it
    │   └── InvalidSpeechRequest    empty or too long text, speech rate out of range
    └── SpeechEngineError           the engine failed: missing, timed out, bad output (ERROR event / 5xx)
"""

from __future__ import annotations


class ActionError(Exception):
    """Base of every call-action error."""


class AudioError(ActionError):
    pass


class UndecodableAudio(AudioError):
    pass


class AudioTooLong(AudioError):
    pass


class SpeechError(ActionError):
    pass


class SpeechRequestError(SpeechError):
    pass


class UnsupportedLanguage(SpeechRequestError):
    def __init__(self, language: str, reason: str) -> None:
        super().__init__(f"language {language!r} is not supported for speech: {reason}")
        self.language = language


class InvalidSpeechRequest(SpeechRequestError):
    pass


class SpeechEngineError(SpeechError):
    pass
