"""One exception hierarchy for the whole control plane, and the one table that maps it to HTTP.

    AppError                      messageId            status
    ├── BadRequest                BAD_REQUEST          400   (validationErrors: field path -> messages)
    ├── Unauthorized              UNAUTHORIZED         401
    ├── Forbidden                 FORBIDDEN            403
    ├── NotFound                  NOT_FOUND            404
    ├── MethodNotAllowed          METHOD_NOT_ALLOWED   405
    ├── Conflict                  CONFLICT             409
    ├── PayloadTooLarge           PAYLOAD_TOO_LARGE    413
    ├── UnsupportedMediaType      UNSUPPORTED_MEDIA_TYPE 415
    ├── RangeNotSatisfiable       REQUESTED_RANGE_NOT_SATISFIABLE 416
    └── TooManyRequests           TOO_MANY_REQUESTS    429
    (anything else)               GENERAL_ERROR        500   (logged with a correlation id, never echoed)

The body is Infobip's: {"requestError": {"serviceException": {"messageId", "text", "validationErrors"}}}.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 400
    message_id = "BAD_REQUEST"
    default_text = "Bad request"

    def __init__(self, text: str | None = None, validation_errors: dict[str, list[str]] | None = None):
        self.text = text or self.default_text
        self.validation_errors = validation_errors
        super().__init__(self.text)


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status, message_id, default_text = 401, "UNAUTHORIZED", "Invalid login details"


class Forbidden(AppError):
    status, message_id, default_text = 403, "FORBIDDEN", "Access to the resource is forbidden."


class NotFound(AppError):
    status, message_id, default_text = 404, "NOT_FOUND", "Resource was not found."


class MethodNotAllowed(AppError):
    status, message_id, default_text = 405, "METHOD_NOT_ALLOWED", "Method is not allowed for this resource."


class Conflict(AppError):
    status, message_id, default_text = 409, "CONFLICT", "Resource is in a conflicting state."


class PayloadTooLarge(AppError):
    status, message_id, default_text = 413, "PAYLOAD_TOO_LARGE", "Request body is too large."


class UnsupportedMediaType(AppError):
    status, message_id, default_text = 415, "UNSUPPORTED_MEDIA_TYPE", "Content type is not supported."


class RangeNotSatisfiable(AppError):
    status, message_id, default_text = 416, "REQUESTED_RANGE_NOT_SATISFIABLE", "Requested range not satisfiable"


class TooManyRequests(AppError):
    status, message_id, default_text = 429, "TOO_MANY_REQUESTS", "Too many requests."


GENERAL_ERROR_TEXT = "Something went wrong. Please contact support."


def error_body(message_id: str, text: str, validation_errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    exception: dict[str, Any] = {"messageId": message_id, "text": text}
    if validation_errors:
        exception["validationErrors"] = validation_errors
    return {"requestError": {"serviceException": exception}}


def to_status_and_body(error: AppError) -> tuple[int, dict[str, Any]]:
    return error.status, error_body(error.message_id, error.text, error.validation_errors)


def general_error_body(correlation_id: str) -> dict[str, Any]:
    return error_body("GENERAL_ERROR", f"{GENERAL_ERROR_TEXT} (reference {correlation_id})")


def not_found_body() -> dict[str, Any]:
    """For paths no route matches: used by the local server and by API Gateway's gateway responses."""
    return error_body(NotFound.message_id, NotFound.default_text)
