"""The files domain's errors, placed in the one hierarchy of `chalicelib.core.errors` (so they map to HTTP there):

BadRequest (400)
├── MalformedForm          a multipart body that cannot be parsed, or without its `file` part
└── InvalidAudioFile       content that is neither WAV (PCM) nor MP3, or that does not decode
PayloadTooLarge (413)
└── AudioFileTooLarge      a file over the upload limit
UnsupportedMediaType (415) a body that is not multipart/form-data (the core class, raised as is)
NotFound (404)
└── AudioFileNotFound      unknown id, or another account's file
"""

from __future__ import annotations

from chalicelib.core.errors import BadRequest, NotFound, PayloadTooLarge


class MalformedForm(BadRequest):
    def __init__(self, reason: str, field: str = "body"):
        super().__init__(f"Request is invalid: {reason}", {field: [reason]})


class InvalidAudioFile(BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"The file is not a playable WAV or MP3 file: {reason}", {"file": [reason]})


class AudioFileTooLarge(PayloadTooLarge):
    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"The file is larger than {limit} bytes, the most an upload may carry.")


class AudioFileNotFound(NotFound):
    def __init__(self, file_id: str):
        self.file_id = file_id
        super().__init__(f"File {file_id!r} was not found.")
