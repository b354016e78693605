"""multipart/form-data parsing on raw bytes: parts come back byte for byte (binary content, CRLFs and all); a body
that is not a form is a 415; a form without its boundary, cut off before its closing delimiter or without the named
part is a 400 saying why."""

from __future__ import annotations

import pytest
from urllib3.filepost import encode_multipart_formdata

from chalicelib.core.errors import UnsupportedMediaType
from chalicelib.files.errors import MalformedForm
from chalicelib.files.multipart import parse_form, single_part

BINARY = bytes(range(256)) * 4 + b"\r\n--not-the-boundary\r\n\r\n" + b"\n\r\r\n"


def test_a_file_part_comes_back_byte_for_byte_with_its_name_and_filename():
    body, content_type = encode_multipart_formdata({"note": "hello", "file": ("a b.wav", BINARY, "audio/wav")})
    parts = parse_form(content_type, body)
    assert [part.name for part in parts] == ["note", "file"]
    file = single_part(parts, "file")
    assert (file.filename, file.content_type, file.content) == ("a b.wav", "audio/wav", BINARY)
    assert single_part(parts, "note").content == b"hello"


def test_backslashes_in_a_file_name_stay_literal_as_browsers_send_them():
    body, content_type = encode_multipart_formdata({"file": ("C:\\prompts\\intro.wav", b"x", "audio/wav")})
    assert single_part(parse_form(content_type, body), "file").filename == "C:\\prompts\\intro.wav"


def test_a_quoted_boundary_a_preamble_and_utf8_and_rfc2231_filenames_are_understood():
    body = (
        b"preamble to ignore\r\n--b:1\r\n"
        b'Content-Disposition: form-data; name="file"; filename="caf\xc3\xa9.mp3"\r\n\r\nabc\r\n'
        b"--b:1\r\n"
        b"Content-Disposition: form-data; name=\"other\"; filename*=UTF-8''%E2%82%AC.wav\r\n\r\nxyz\r\n"
        b"--b:1--\r\nepilogue"
    )
    parts = parse_form('multipart/form-data; boundary="b:1"', body)
    assert [(part.name, part.filename, part.content) for part in parts] == [
        ("file", "café.mp3", b"abc"),
        ("other", "€.wav", b"xyz"),
    ]


@pytest.mark.parametrize("content_type", [None, "", "application/json", "audio/wav", "multipart/mixed; boundary=x"])
def test_anything_but_form_data_is_unsupported(content_type):
    with pytest.raises(UnsupportedMediaType):
        parse_form(content_type, b"--x\r\n\r\n--x--")


def test_form_data_without_a_boundary_is_malformed():
    with pytest.raises(MalformedForm, match="boundary"):
        parse_form("multipart/form-data", b"")


def test_a_body_cut_off_before_the_closing_delimiter_is_malformed():
    body, content_type = encode_multipart_formdata({"file": ("a.wav", BINARY, "audio/wav")})
    with pytest.raises(MalformedForm, match="cut off"):
        parse_form(content_type, body[:-30])


def test_a_body_without_any_delimiter_is_malformed():
    with pytest.raises(MalformedForm, match="no part"):
        parse_form("multipart/form-data; boundary=abc", b"a plain body")


def test_a_missing_or_repeated_part_is_named_in_the_error():
    body, content_type = encode_multipart_formdata({"upload": ("a.wav", b"x", "audio/wav")})
    with pytest.raises(MalformedForm) as missing:
        single_part(parse_form(content_type, body), "file")
    assert missing.value.validation_errors == {"file": ["a part named 'file' is required"]}
    body, content_type = encode_multipart_formdata([("file", ("a.wav", b"x")), ("file", ("b.wav", b"y"))])
    with pytest.raises(MalformedForm, match="send one part"):
        single_part(parse_form(content_type, body), "file")


def test_parts_that_are_not_named_form_fields_are_skipped():
    body = b"--x\r\nContent-Type: text/plain\r\n\r\nanonymous\r\n--x\r\n\r\nno headers\r\n--x--\r\n"
    assert parse_form("multipart/form-data; boundary=x", body) == []
