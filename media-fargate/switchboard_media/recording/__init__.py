"""Recording on the media node: `Recorder` writes what a graph's participants say (one WAV each, or one composed
mix) tick by tick; `Recordings` starts and stops recorders on calls, conferences and dialogs, and hands
finished files to a `RecordingStore` (S3 + the recording records) — also after the node shuts down or crashes."""

from switchboard_media.recording.manager import RecordingError, Recordings
from switchboard_media.recording.recorder import RecordedFile, Recorder
from switchboard_media.recording.store import RecordingStore

__all__ = ["RecordedFile", "Recorder", "RecordingError", "RecordingStore", "Recordings"]
