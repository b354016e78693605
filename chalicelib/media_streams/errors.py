"""The media-stream domain's errors, placed in the one hierarchy of `chalicelib.core.errors`:

NotFound (404)
└── MediaStreamConfigNotFound  unknown id, or another account's configuration
"""

from __future__ import annotations

from chalicelib.core.errors import NotFound


class MediaStreamConfigNotFound(NotFound):
    def __init__(self, config_id: str):
        self.config_id = config_id
        super().__init__(f"Media-stream configuration {config_id!r} was not found.")
