"""The calls-configurations domain's errors, placed in the one hierarchy of `chalicelib.core.errors`:

BadRequest (400)
└── ConfigurationIdTaken       a client-chosen id the account already uses (Infobip documents only 400 for a
                               create, so it is a validation error on `id`, not a 409)
NotFound (404)
└── CallsConfigurationNotFound unknown id, or another account's configuration
"""

from __future__ import annotations

from chalicelib.core.errors import BadRequest, NotFound


class ConfigurationIdTaken(BadRequest):
    def __init__(self, configuration_id: str):
        self.configuration_id = configuration_id
        super().__init__(
            "Request is invalid.", {"id": [f"a calls configuration with id {configuration_id!r} already exists"]}
        )


class CallsConfigurationNotFound(NotFound):
    def __init__(self, configuration_id: str):
        self.configuration_id = configuration_id
        super().__init__(f"Calls configuration {configuration_id!r} was not found.")
