"""On-demand composition: a conference's (or dialog's) per-participant files mixed into one file, aligned by when
each started (`wav.compose`, in bounded blocks through temporary files: never a whole recording in memory).

The composed file is a new READY file of the scope's recording; with `deleteCallRecordings` (the default) the
participants' files are deleted, each leaving its tombstone. The outcome is `*_COMPOSITION_FINISHED` (with the
recording) or `*_COMPOSITION_FAILED` (with the reason).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from chalicelib.core import clock, ids
from chalicelib.core.errors import Conflict
from chalicelib.db.models import RecordingFile
from chalicelib.events.outbox import publish
from chalicelib.recordings import repository, schemas, service
from chalicelib.recordings.errors import RecordingNotFound
from chalicelib.recordings.wav import compose


def _participants(account_id: str, scope_type: str, scope_id: str) -> list[RecordingFile]:
    stored = [item for item in repository.of_scope(account_id, scope_type, scope_id) if item.status == "READY"]
    if any(item.location == "SFTP" and not item.composed for item in stored):
        raise Conflict("Participants' files were exported over SFTP: they are no longer stored here to compose.")
    items = [item for item in stored if not item.composed and item.location == "HOSTED" and item.object_key]
    if not items:
        if service.visible(repository.of_scope(account_id, scope_type, scope_id)):
            raise Conflict("There are no stored per-participant files to compose.")
        raise RecordingNotFound(scope_type.lower(), scope_id)
    if any(item.file_format != "WAV" for item in items):
        raise Conflict("Only audio (WAV) recordings can be composed.")
    return sorted(items, key=lambda item: item.start_time)


def compose_recording(
    account_id: str, scope_type: str, scope_id: str, request: schemas.OnDemandComposition, who: str
) -> None:
    items = _participants(account_id, scope_type, scope_id)
    first = items[0]
    file_id = ids.uuid_id()
    try:
        with tempfile.TemporaryDirectory(prefix="compose-") as directory:
            folder = Path(directory)
            sources = []
            for item in items:
                local = folder / f"{item.file_id}.wav"
                assert item.object_key is not None
                repository.download(item.object_key, local)
                sources.append((local, (item.start_time - first.start_time).total_seconds()))
            target = folder / f"{file_id}.wav"
            info = compose(sources, target)
            key = repository.object_key(account_id, file_id, "WAV")
            repository.upload(target, key, "WAV")
            size = target.stat().st_size
    except Exception as error:
        failure = service.recording_event("COMPOSITION_FAILED", first, {"reason": f"composition failed: {error}"})
        publish(account_id, [failure])
        return
    ends = [item.end_time for item in items if item.end_time is not None]
    composed = RecordingFile(
        account_id,
        file_id,
        scope_type=scope_type,
        scope_id=scope_id,
        recording_id=f"composition-{file_id}",
        composed=True,
        status="READY",
        name=f"{file_id}.wav",
        file_format="WAV",
        recording_type="AUDIO",
        composition=True,
        size=size,
        duration=round(info.seconds),
        start_time=first.start_time,
        end_time=max(ends) if ends else clock.now(),
        created_at=clock.now(),
        location="HOSTED",
        object_key=key,
        custom_data=service.custom_data(first),
        file_prefix=first.file_prefix,
        calls_configuration_id=first.calls_configuration_id,
        application_id=first.application_id,
        entity_id=first.entity_id,
    )
    repository.save(composed)
    if request.deleteCallRecordings:
        for item in items:
            service.tombstone(item, who, f"composed into {file_id}")
    remaining = service.visible(repository.of_scope(account_id, scope_type, scope_id))
    view = service.recording_view(composed, remaining, event=True)
    publish(account_id, [service.recording_event("COMPOSITION_FINISHED", composed, {"recording": view})])
