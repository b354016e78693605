"""Audio files for the Calls API (`/calls/1/files`): WAV and MP3 uploads, checked by their content and decoded in
full, stored in the media bucket with their metadata in DynamoDB, and opened for playback by the media plane.

    multipart.py    multipart/form-data bodies, parsed from the raw bytes
    audio.py        format sniffing, WAV structure, decoding (PyAV) and duration
    schemas.py      Infobip's File and FilePage
    repository.py   the AudioFile table and the bucket's objects
    service.py      the rules; `open_file` for players
    routes.py       the four operations
"""

from chalicelib.files.audio import AudioFormat
from chalicelib.files.errors import AudioFileNotFound, AudioFileTooLarge, InvalidAudioFile, MalformedForm
from chalicelib.files.service import MAX_FILE_BYTES, open_file

__all__ = [
    "MAX_FILE_BYTES",
    "AudioFileNotFound",
    "AudioFileTooLarge",
    "AudioFormat",
    "InvalidAudioFile",
    "MalformedForm",
    "open_file",
]
