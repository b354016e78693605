"""`multipart/form-data` request bodies (RFC 7578), parsed from the raw bytes the HTTP edge hands over.

The body arrives whole: API Gateway passes it base64-encoded because `multipart/form-data` is one of the app's binary
types (`app.py`), and Chalice decodes it. A part's content is a slice of the body, byte for byte, with no line-ending
or charset conversion, which is what binary uploads need. Part headers and the request's content type are read with
the standard library's header parser (quoted strings, RFC 2231 parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import HTTP

from chalicelib.core.errors import UnsupportedMediaType
from chalicelib.files.errors import MalformedForm

FORM_DATA = "multipart/form-data"
CRLF = b"\r\n"


@dataclass(frozen=True)
class FormPart:
    name: str
    filename: str | None
    content_type: str | None
    content: bytes


def _headers(text: str) -> Message:
    return HeaderParser(policy=HTTP).parsestr(text + "\r\n\r\n")


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a `multipart/form-data` content type; anything else is a 415."""
    if not content_type:
        raise UnsupportedMediaType(f"A Content-Type header is required; send {FORM_DATA} with a part named 'file'.")
    headers = _headers(f"Content-Type: {content_type}")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != FORM_DATA:
        raise UnsupportedMediaType(f"Content type {media_type!r} is not supported; send {FORM_DATA}.")
    boundary = headers.get_boundary()
    if not boundary or len(boundary) > 70 or not boundary.isascii():
        raise MalformedForm("the Content-Type has no valid multipart boundary")
    return boundary.encode("ascii")


def _part(raw: bytes) -> FormPart | None:
    """One part, from just after its delimiter line; None for a part that is not a named form field."""
    if raw.startswith(CRLF):
        head, content = b"", raw[len(CRLF) :]
    else:
        head, separator, content = raw.partition(CRLF + CRLF)
        if not separator:
            raise MalformedForm("a part's headers are not followed by a blank line")
    # Browsers and urllib3 write names as HTML does (`"` as %22, a backslash as itself), not as RFC 822 quoted
    # pairs: doubling backslashes keeps them literal through the header parser (a Windows path stays a path).
    headers = _headers(head.decode("utf-8", errors="replace").replace("\\", "\\\\"))
    name = headers.get_param("name", header="content-disposition")
    if headers.get_content_disposition() != "form-data" or not isinstance(name, str) or not name:
        return None
    content_type = headers.get_content_type() if "content-type" in headers else None
    return FormPart(name, headers.get_filename(), content_type, content)


def parse_form(content_type: str | None, body: bytes) -> list[FormPart]:
    """The named parts of a form, in order. Parts must be closed by the final delimiter: a cut-off body is a 400."""
    delimiter = CRLF + b"--" + boundary_of(content_type)
    chunks = (CRLF + body).split(delimiter)
    parts: list[FormPart] = []
    for chunk in chunks[1:]:  # chunks[0] is the preamble
        if chunk.startswith(b"--"):
            return parts
        line_end = chunk.find(CRLF)
        if line_end < 0 or chunk[:line_end].strip(b" \t"):
            raise MalformedForm("a boundary line is malformed")
        part = _part(chunk[line_end + len(CRLF) :])
        if part is not None:
            parts.append(part)
    if len(chunks) == 1:
        raise MalformedForm("the body holds no part delimited by the Content-Type's boundary")
    raise MalformedForm("the body ends before the closing boundary (was the upload cut off?)")


def single_part(parts: list[FormPart], name: str) -> FormPart:
    found = [part for part in parts if part.name == name]
    if not found:
        raise MalformedForm(f"a part named {name!r} is required", field=name)
    if len(found) > 1:
        raise MalformedForm(f"send one part named {name!r}, not {len(found)}", field=name)
    return found[0]
