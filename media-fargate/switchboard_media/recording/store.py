"""Where finished recordings go: S3 (`chalicelib.recordings.repository`: SSE, multipart when large) and the
recording records and their events (`chalicelib.recordings.service`), run in threads (synchronous AWS I/O) so the
event loop never waits on storage. Uploads are retried with backoff; a file that still cannot be stored is
FAILED with the reason (never silently lost), and its local copy is kept for the operator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from chalicelib.contract.control import StartRecordingRequest
from switchboard_media.recording.recorder import RecordedFile

log = logging.getLogger(__name__)
UPLOAD_ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 0.5


class RecordingStore:
    def __init__(self, node_id: str | None = None) -> None:
        self.node_id = node_id

    async def started(self, request: StartRecordingRequest, recording_id: str, files: Sequence[RecordedFile]) -> None:
        from chalicelib.recordings import service

        planned = [service.PlannedFile(file.file_id, file.call_id, file.start_time) for file in files]
        await asyncio.to_thread(service.recording_started, request, recording_id, planned, self.node_id)

    async def participant_started(self, request: StartRecordingRequest, recording_id: str, file: RecordedFile) -> None:
        from chalicelib.recordings import service

        planned = service.PlannedFile(file.file_id, file.call_id, file.start_time)
        await asyncio.to_thread(service.participant_file_started, request, recording_id, planned, self.node_id or "")

    async def stopped(self, account_id: str, recording_id: str, end_time: datetime) -> None:
        from chalicelib.recordings import service

        await asyncio.to_thread(service.recording_stopped, account_id, recording_id, end_time)

    async def store(self, account_id: str, file: RecordedFile, interrupted: str | None = None) -> bool:
        """Upload the file and mark it READY; FAILED after the retries. True when stored."""
        from chalicelib.recordings import repository, service

        if file.finished is not None:  # an MP4's writer is still writing its last frames and trailer
            try:
                await asyncio.wrap_future(file.finished)
            except Exception as error:
                await self.failed(account_id, file.file_id, f"the file could not be written: {error}")
                return False
        key = repository.object_key(account_id, file.file_id, file.file_format)
        delay = FIRST_BACKOFF_SECONDS
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            try:
                await asyncio.to_thread(repository.upload, file.path, key, file.file_format)
                break
            except Exception as error:
                log.warning("upload of recording %s failed (attempt %d): %s", file.file_id, attempt, error)
                if attempt == UPLOAD_ATTEMPTS:
                    await self.failed(account_id, file.file_id, f"the file could not be stored: {error}")
                    return False
                await asyncio.sleep(delay)
                delay *= 2
        size = file.path.stat().st_size
        end = file.end_time or file.start_time
        await asyncio.to_thread(
            service.file_stored,
            account_id,
            file.file_id,
            object_key=key,
            size=size,
            duration=file.seconds,
            end_time=end,
            interrupted=interrupted,
        )
        file.path.unlink(missing_ok=True)
        return True

    async def failed(self, account_id: str, file_id: str, reason: str) -> None:
        from chalicelib.recordings import service

        await asyncio.to_thread(service.file_failed, account_id, file_id, reason)
