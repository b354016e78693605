"""API Gateway pieces Chalice cannot express, as pure functions over its Swagger document.

- Gateway responses: API Gateway answers some requests itself (no route matched, throttling, a body too large,
  its own 5xx). Integrators' Infobip clients parse every error body as Infobip's envelope, so those answers must
  carry it too: an unknown path is a 404 `NOT_FOUND` exactly like the local server's.
- The handler's ARN by name: Chalice points every integration at `${APIHandler.Arn}`, which makes the API depend
  on the function. The function's environment needs the API's URL (`SWITCHBOARD_PUBLIC_BASE_URL`), the other
  direction, and CloudFormation rejects the cycle; naming the function and building its ARN from the name breaks it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from chalicelib.core.errors import (
    GENERAL_ERROR_TEXT,
    AppError,
    Forbidden,
    PayloadTooLarge,
    TooManyRequests,
    UnsupportedMediaType,
    error_body,
    not_found_body,
)

_JSON = "application/json"
_INVOKE_PATH = "path/2015-03-31/functions/{arn}/invocations"


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "responseTemplates": {_JSON: json.dumps(body, separators=(",", ":"))},
        "responseParameters": {"gatewayresponse.header.Content-Type": f"'{_JSON}'"},
    }


def _for(error: type[AppError]) -> dict[str, Any]:
    return _response(error.status, error_body(error.message_id, error.default_text))


def gateway_responses() -> dict[str, dict[str, Any]]:
    """`x-amazon-apigateway-gateway-responses`, keyed by API Gateway's response type."""
    # DEFAULT_4XX keeps API Gateway's own status code (400, 403, ...) and message; the mapping template quotes it.
    quoted_message = (
        '{"requestError":{"serviceException":{"messageId":"BAD_REQUEST","text":$context.error.messageString}}}'
    )
    default_4xx = {
        "responseTemplates": {_JSON: quoted_message},
        "responseParameters": {"gatewayresponse.header.Content-Type": f"'{_JSON}'"},
    }
    general = error_body("GENERAL_ERROR", GENERAL_ERROR_TEXT)
    general["requestError"]["serviceException"]["text"] = f"{GENERAL_ERROR_TEXT} (reference $context.requestId)"
    return {
        # API Gateway's answer to a path or method no route matches: Infobip's 404, not "Missing Authentication Token".
        "MISSING_AUTHENTICATION_TOKEN": _response(404, not_found_body()),
        "RESOURCE_NOT_FOUND": _response(404, not_found_body()),
        "ACCESS_DENIED": _for(Forbidden),
        "THROTTLED": _for(TooManyRequests),
        "QUOTA_EXCEEDED": _for(TooManyRequests),
        "REQUEST_TOO_LARGE": _for(PayloadTooLarge),
        "UNSUPPORTED_MEDIA_TYPE": _for(UnsupportedMediaType),
        "DEFAULT_4XX": default_4xx,
        "DEFAULT_5XX": {
            "responseTemplates": {_JSON: json.dumps(general, separators=(",", ":"))},
            "responseParameters": {"gatewayresponse.header.Content-Type": f"'{_JSON}'"},
        },
    }


def integration_uri(function_name: str) -> dict[str, str]:
    """An integration URI for a Lambda function, built from its name and pseudo parameters only."""
    arn = f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{function_name}"
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:{_INVOKE_PATH.format(arn=arn)}"}


def with_integration_uri(paths: dict[str, Any], uri: dict[str, str]) -> dict[str, Any]:
    """A copy of a Swagger `paths` object with every Lambda (aws_proxy) integration pointed at `uri`.

    The whole object is overridden at once because CDK addresses overrides by dot-separated keys, which cannot name
    a route that contains a dot (`/sdk/v1/switchboard-rtc.js`)."""
    rewritten = copy.deepcopy(paths)
    for methods in rewritten.values():
        for operation in methods.values():
            integration = operation.get("x-amazon-apigateway-integration") if isinstance(operation, dict) else None
            if integration and integration.get("type") == "aws_proxy":
                integration["uri"] = uri
    return rewritten
