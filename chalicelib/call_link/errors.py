"""The Call Link domain's errors, placed in the one hierarchy of `chalicelib.core.errors` (mapped to HTTP there):

BadRequest (400)
├── InvalidField               a rule on one field (unknown image or subdomain id, a ROOM with an identity, ...)
├── InvalidImage               content that is not a PNG or JPEG within the limits
└── DestinationNotSupported    PHONE, CONVERSATIONS, VIBER: refused until their issues exist
PayloadTooLarge (413)
└── ImageTooLarge              an image over the upload limit
NotFound (404)
└── CallLinkResourceNotFound   unknown link, configuration, image or subdomain, or another account's
Forbidden (403)
└── WrongPassword              a room password that does not match (`attemptsLeft` in the text)
TooManyRequests (429)
├── PasswordLocked             too many wrong passwords: the link refuses sessions for a while
└── DestinationBusy            a WEBRTC destination already has its one caller
"""

from __future__ import annotations

from chalicelib.core.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, TooManyRequests


class InvalidField(BadRequest):
    def __init__(self, field: str, reason: str):
        super().__init__(f"Request is invalid: {field} {reason}.", {field: [reason]})


class InvalidImage(BadRequest):
    def __init__(self, reason: str):
        super().__init__(f"The file is not an accepted image: {reason}", {"file": [reason]})


class DestinationNotSupported(BadRequest):
    def __init__(self, destination_type: str):
        reason = f"{destination_type} destinations are not supported yet; use WEBRTC, ROOM or APPLICATION"
        super().__init__(f"Request is invalid: {reason}.", {"destination.type": [reason]})


class ImageTooLarge(PayloadTooLarge):
    def __init__(self, limit: int):
        super().__init__(f"The image is larger than {limit} bytes, the most an upload may carry.")


class CallLinkResourceNotFound(NotFound):
    def __init__(self, kind: str, resource_id: str):
        super().__init__(f"{kind} {resource_id[:128]!r} was not found.")


class WrongPassword(Forbidden):
    def __init__(self, attempts_left: int):
        self.attempts_left = attempts_left
        super().__init__(f"The password is wrong; {attempts_left} attempts left.")


class PasswordLocked(TooManyRequests):
    def __init__(self) -> None:
        super().__init__("Too many wrong passwords; try again later.")


class DestinationBusy(TooManyRequests):
    def __init__(self) -> None:
        super().__init__("The person behind this link is in a call; try again later.")
