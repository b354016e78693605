"""The HTTP edge shared by every route: request parsing, authentication, responses and error translation.

A route is declared with `route(blueprint, path, methods)`; the view receives a `RequestContext` and returns a
pydantic model, a dict, or a chalice `Response`. Whatever it raises becomes Infobip's error body: `AppError`s by
the table in `errors`, anything else as GENERAL_ERROR with a correlation id that is logged, never a stack trace.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from chalice import Blueprint, Chalice, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.core import ids
from chalicelib.core.auth import Principal, authenticate
from chalicelib.core.errors import (
    AppError,
    BadRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    general_error_body,
    to_status_and_body,
)
from chalicelib.core.observability import logger, tracer
from chalicelib.core.settings import get_settings

M = TypeVar("M", bound=BaseModel)
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
JSON_HEADERS = {"Content-Type": "application/json"}


def validation_errors(error: ValidationError) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or "body"
        details.setdefault(path, []).append(item["msg"])
    return details


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


@dataclass
class RequestContext:
    request: Request
    principal: Principal | None
    correlation_id: str

    @property
    def account_id(self) -> str:
        assert self.principal is not None, "route is public"
        return self.principal.account_id

    def body(self, model: type[M]) -> M:
        raw = self.request.raw_body or b""
        if len(raw) > get_settings().max_body_bytes:
            raise PayloadTooLarge(f"Request body exceeds {get_settings().max_body_bytes} bytes.")
        content_type = self.request.headers.get("content-type")
        if content_type is not None:
            media = _media_type(content_type)
            if media != "application/json" and not media.endswith("+json"):
                raise UnsupportedMediaType(f"Content type {media!r} is not supported; send application/json.")
        if not raw.strip():
            raise BadRequest("Request body is required.")
        try:
            return model.model_validate_json(raw)
        except ValidationError as error:
            if any(item["type"] == "json_invalid" for item in error.errors()):
                raise BadRequest("Request body is not valid JSON.") from None
            if any(item["type"] == "model_type" and not item["loc"] for item in error.errors()):
                raise BadRequest("Request body must be a JSON object.") from None
            raise BadRequest("Request is invalid.", validation_errors(error)) from None

    def query(self, name: str) -> str | None:
        params = self.request.query_params
        return params.get(name) if params else None

    def query_int(self, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
        raw = self.query(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest("Request is invalid.", {name: ["must be an integer"]}) from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise BadRequest("Request is invalid.", {name: [f"must be {bound}"]})
        return value

    def paging(self, default_size: int = 20) -> tuple[int, int]:
        return self.query_int("page", 0, 0), self.query_int("size", default_size, 1, 100)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json", exclude_none=True)
    return Response(
        body=json.dumps(body, separators=(",", ":")), status_code=status, headers={**JSON_HEADERS, **(headers or {})}
    )


def error_response(error: AppError, correlation_id: str | None = None) -> Response:
    status, body = to_status_and_body(error)
    headers = {"X-Request-Id": correlation_id} if correlation_id else None
    return json_response(body, status, headers)


def _correlation_id(request: Request | None) -> str:
    context = getattr(request, "context", None) or {}
    return str(context.get("requestId") or ids.uuid_id())


def _run(
    view: Callable[..., Any], blueprint: Blueprint | Chalice, public: bool, status: int, kwargs: dict[str, Any]
) -> Response:
    request = blueprint.current_request
    assert request is not None, "views run inside a request"
    correlation_id = _correlation_id(request)
    log = logger()
    log.set_correlation_id(correlation_id)
    try:
        principal = None if public else authenticate(request.headers)
        if principal is not None:
            log.append_keys(account_id=principal.account_id)
        with tracer().provider.in_subsegment(f"## {view.__name__}") as subsegment:
            if principal is not None:
                subsegment.put_annotation("account_id", principal.account_id)
            result = view(RequestContext(request, principal, correlation_id), **kwargs)
        if isinstance(result, Response):
            result.headers.setdefault("X-Request-Id", correlation_id)
            return result
        return json_response(result, status, {"X-Request-Id": correlation_id})
    except AppError as error:
        return error_response(error, correlation_id)
    except Exception:
        log.exception("unhandled error", extra={"path": getattr(request, "path", "?")})
        return json_response(general_error_body(correlation_id), 500, {"X-Request-Id": correlation_id})
    finally:
        log.remove_keys(["account_id"])


def route(
    blueprint: Blueprint | Chalice,
    path: str,
    methods: Iterable[str] = ("GET",),
    *,
    public: bool = False,
    status: int = 200,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Register `view` for `path`; every content type reaches the view, which decides (415 in the envelope)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def handler(**kwargs: Any) -> Response:
            return _run(view, blueprint, public, status, kwargs)

        blueprint.route(path, methods=list(methods), content_types=["*/*"])(handler)
        return handler

    return decorator


def install_method_fallbacks(app: Chalice) -> None:
    """Answer unsupported methods on known paths with 405 in the envelope (API Gateway would say 403).

    Call once, after every blueprint is registered.
    """
    for number, (path, entries) in enumerate(sorted(app.routes.items())):
        missing = [method for method in HTTP_METHODS if method not in entries]
        if not missing:
            continue
        allowed = ", ".join(sorted(entries))

        def not_allowed(allowed: str = allowed, **_: Any) -> Response:
            response = error_response(MethodNotAllowed(f"Method is not allowed; use {allowed}."))
            response.headers["Allow"] = allowed
            return response

        not_allowed.__name__ = f"method_not_allowed_{number}"
        app.route(path, methods=missing, content_types=["*/*"])(not_allowed)
