"""The calls domain's errors, placed in the one hierarchy of `chalicelib.core.errors` (so they map to HTTP there):

Conflict (409)
└── IllegalTransition        the leg's state does not allow the change (including every change of a
                             finished leg, and the loser of two racing changes)
BadRequest (400)
└── InvalidErrorCode         an unknown error code, or one that cannot end a leg this way
NotFound (404)
└── CallNotFound             unknown id, or another account's call
"""

from __future__ import annotations

from chalicelib.core.errors import BadRequest, Conflict, NotFound


class IllegalTransition(Conflict):
    def __init__(self, current: str, wanted: str, reason: str | None = None):
        self.current, self.wanted = current, wanted
        text = f"The call is {current}: it cannot become {wanted}."
        super().__init__(f"{text} {reason}" if reason else text)


class InvalidErrorCode(BadRequest):
    def __init__(self, error_code: str, reason: str):
        self.error_code = error_code
        super().__init__("Request is invalid.", {"errorCode": [f"{error_code!r} {reason}"]})


class CallNotFound(NotFound):
    def __init__(self, call_id: str):
        self.call_id = call_id
        super().__init__(f"Call {call_id!r} was not found.")
