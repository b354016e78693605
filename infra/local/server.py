"""The local HTTP front door: API Gateway's job done by chalice's LocalGateway behind a threaded HTTP/1.1 server.

Unlike `chalice local`, responses are written in one piece with TCP_NODELAY, so keep-alive clients (the official
Infobip client keeps connections open) do not wait ~44 ms per request for a delayed ACK. Connections are served on
threads, but the app is invoked one request at a time, as in one Lambda instance: Chalice keeps the current request
on the app object, so two concurrent invocations would see each other's request. Paths no route matches get
the same 404 body that the deployed API's gateway response returns.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException

from chalicelib.core.errors import error_body, not_found_body

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    gateway: LocalGateway
    invocation: threading.Lock

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the app logs requests as JSON; the default access log only adds noise

    def _send(self, status: int, headers: dict[str, Any], body: bytes) -> None:
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
        for name, value in headers.items():
            for item in value if isinstance(value, list) else [value]:
                lines.append(f"{name}: {item}")
        lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, {"Content-Type": "application/json"}, json.dumps(payload).encode())

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > API_GATEWAY_MAX_BODY:
            self.close_connection = True
            self._json(413, error_body("PAYLOAD_TOO_LARGE", "Request body is too large."))
            return
        body = self.rfile.read(length) if length else None
        try:
            with self.invocation:
                response = self.gateway.handle_request(self.command, self.path, dict(self.headers), body)
        except LocalGatewayException:
            self._json(404, not_found_body())
            return
        headers = {k: v for k, v in response["headers"].items() if k.lower() not in ("content-length", "connection")}
        headers.update(response.get("multiValueHeaders") or {})
        raw = response.get("body") or b""
        if response.get("isBase64Encoded"):
            raw = base64.b64decode(raw)
        elif isinstance(raw, str):
            raw = raw.encode()
        self._send(response["statusCode"], headers, raw)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class ApiServer:
    def __init__(self, app: Any, port: int) -> None:
        config = Config.create(chalice_app=app, app_name=app.app_name, chalice_stage="local", lambda_timeout=900)
        handler = type("Handler", (_Handler,), {"gateway": LocalGateway(app, config), "invocation": threading.Lock()})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="api-server", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
