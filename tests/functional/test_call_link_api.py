"""Call Link API on moto: configurations (defaults, the one default, PUT/PATCH, sealed webhook credentials), images
judged by their content, subdomains (three at most), links (destinations, codes, validation), account isolation,
and Infobip's response schemas."""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from jsonschema import Draft202012Validator

from chalicelib.call_link import repository
from chalicelib.core import clock
from chalicelib.core.settings import get_settings
from tests.support.audio_files import form
from tests.support.envelope import assert_envelope
from tests.support.openapi import load
from tests.support.payloads import JSON, dumps

DOC = "infobip-webrtc-calls-openapi.json"
CONFIGS = "/call-link/1/configs"
LINKS = "/call-link/1/links"
IMAGES = "/call-link/1/images"
SUBDOMAINS = "/call-link/1/subdomains"


def response_validator(document: str, method: str, path: str, status: int) -> Callable[[Any], None]:
    """`tests.support.openapi.response_validator`, with the document's `\\p{L}`/`\\p{N}` classes (Java regex) read
    as Python's unicode `\\w`/`\\d`, which `re` understands."""
    raw = json.dumps(load(document)).replace("\\\\p{L}\\\\p{N}", "\\\\w").replace("\\\\p{N}", "\\\\d")
    spec = json.loads(raw.replace("\\\\p{L}", "\\\\w"))
    schema = spec["paths"][path][method.lower()]["responses"][str(status)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": spec["components"]})

    def validate(body: Any) -> None:
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])

    return validate


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg(width: int = 16, height: int = 8) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + sof0 + sos + b"\x12\x34" + b"\xff\xd9"


def body_of(response):
    return json.loads(response.body)


def post(client, account, path, body):
    return client.post(path, headers={**account.headers, **JSON}, body=dumps(body))


def upload(client, account, data: bytes, kind: str = "LOGO", filename: str = "logo.png", content_type="image/png"):
    body, form_type = form(data, filename, content_type)
    return client.post(f"{IMAGES}/upload/{kind}", headers={**account.headers, "Content-Type": form_type}, body=body)


THEMED = {
    "name": "Acme support",
    "initialOptions": {"audio": True, "video": False, "muted": False, "cameraFacingMode": "FRONT"},
    "callOptions": {"mute": True, "screenShare": False, "dialPad": False, "chat": True},
    "theme": {
        "colors": {"primary": "#ff0066", "primaryText": "101010", "background": "fafafa"},
        "messages": {"welcomeText": "Hello from Acme", "inactiveText": "Not yet", "expirationText": "Too late"},
        "layouts": ["SOLO", "GRID"],
        "localization": {"type": "PRESET", "languageCode": "de-DE"},
    },
}


# --- configurations -------------------------------------------------------------------------------------


def test_a_configuration_is_created_read_listed_replaced_patched_and_deleted(client, account):
    created = post(client, account, CONFIGS, THEMED)
    assert created.status_code == 201, created.body
    config = body_of(created)
    response_validator(DOC, "POST", CONFIGS, 201)(config)
    assert config["isDefault"] is True  # the account's first configuration is its default
    assert config["theme"]["colors"] == {"primary": "FF0066", "primaryText": "101010", "background": "FAFAFA"}
    assert config["theme"]["layouts"] == ["SOLO", "GRID"]
    assert config["callOptions"] == {
        "mute": True,
        "screenShare": False,
        "camera": True,
        "switchCameraFacingMode": True,
        "dialPad": False,
        "chat": True,
        "settings": True,
        "recordingIndicator": False,
    }
    one = f"{CONFIGS}/{config['id']}"
    got = client.get(one, headers=account.headers)
    response_validator(DOC, "GET", CONFIGS + "/{id}", 200)(body_of(got))
    assert body_of(got) == config
    listed = body_of(client.get(CONFIGS, headers=account.headers))
    response_validator(DOC, "GET", CONFIGS, 200)(listed)
    assert listed["results"] == [config] and listed["paging"]["totalResults"] == 1

    # PUT replaces: what is absent returns to Infobip's defaults
    replaced = client.put(one, headers={**account.headers, **JSON}, body=dumps({"name": "Plain"}))
    response_validator(DOC, "PUT", CONFIGS + "/{id}", 200)(body_of(replaced))
    plain = body_of(replaced)
    assert plain["name"] == "Plain" and plain["theme"]["colors"]["primary"] == "148997"
    assert plain["theme"]["layouts"] == ["GRID"] and plain["isDefault"] is True
    assert plain["theme"]["messages"]["welcomeText"] == "Welcome to Call Link."

    # PATCH keeps what it does not name
    patched = client.patch(one, headers={**account.headers, **JSON}, body=dumps({"callOptions": {"chat": True}}))
    response_validator(DOC, "PATCH", CONFIGS + "/{id}", 200)(body_of(patched))
    assert body_of(patched)["name"] == "Plain" and body_of(patched)["callOptions"]["chat"] is True

    deleted = client.delete(one, headers=account.headers)
    response_validator(DOC, "DELETE", CONFIGS + "/{id}", 200)(body_of(deleted))
    assert_envelope(client.get(one, headers=account.headers), 404, "NOT_FOUND")
    assert_envelope(client.delete(one, headers=account.headers), 404, "NOT_FOUND")


def test_one_configuration_is_default_and_the_flag_moves(client, account):
    first = body_of(post(client, account, CONFIGS, {"name": "first"}))
    second = body_of(post(client, account, CONFIGS, {"name": "second"}))
    assert (first["isDefault"], second["isDefault"]) == (True, False)
    third = body_of(post(client, account, CONFIGS, {"name": "third", "isDefault": True}))
    flags = {c["name"]: c["isDefault"] for c in body_of(client.get(CONFIGS, headers=account.headers))["results"]}
    assert flags == {"first": False, "second": False, "third": True}
    assert third["isDefault"]
    client.delete(f"{CONFIGS}/{third['id']}", headers=account.headers)
    flags = {c["name"]: c["isDefault"] for c in body_of(client.get(CONFIGS, headers=account.headers))["results"]}
    assert flags == {"first": True, "second": False}  # the oldest remaining takes the flag


def test_webhook_credentials_are_sealed_and_masked(client, account):
    body = {
        "name": "hooked",
        "webhook": {
            "url": "http://127.0.0.1:9/hook",
            "securityConfig": {"type": "HMAC", "secretKey": "s3cret-key", "algorithm": "HMAC_SHA_256"},
        },
    }
    created = body_of(post(client, account, CONFIGS, body))
    assert created["webhook"]["securityConfig"] == {
        "type": "HMAC",
        "secretKey": "********",
        "algorithm": "HMAC_SHA_256",
    }
    stored = repository.get_config(account.account_id, created["id"])
    assert stored is not None and "s3cret-key" not in stored.document
    assert stored.webhook_secret_sealed and "s3cret-key" not in stored.webhook_secret_sealed
    # what a GET shows can be sent back without losing the secret
    echoed = {k: v for k, v in created.items() if k not in ("id", "isDefault")}
    client.put(f"{CONFIGS}/{created['id']}", headers={**account.headers, **JSON}, body=dumps(echoed))
    from chalicelib.call_link.configurations import webhook_target

    target = webhook_target(account.account_id, created["id"])
    assert target is not None and target.credentials == {"secretKey": "s3cret-key", "algorithm": "HMAC_SHA_256"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "x", "theme": {"colors": {"primary": "red"}}}, "theme.colors.primary"),
        ({"name": "x", "theme": {"layouts": []}}, "theme.layouts"),
        ({"name": "x", "theme": {"layouts": ["GRID", "GRID"]}}, "theme.layouts"),
        ({"name": "x", "theme": {"layouts": ["MOSAIC"]}}, "theme.layouts.0"),
        ({"name": "x", "theme": {"localization": {"type": "PRESET"}}}, "theme.localization"),
        (
            {"name": "x", "theme": {"localization": {"type": "PRESET", "languageCode": "xx-XX"}}},
            "theme.localization.languageCode",
        ),
        ({"name": "x", "webhook": {"url": "ftp://example.com"}}, "webhook.url"),
        ({"name": "x", "webhook": {"url": "http://10.0.0.1/hook"}}, "webhook.url"),
        (
            {"name": "x", "webhook": {"url": "http://127.0.0.1/h", "securityConfig": {"type": "BASIC"}}},
            "webhook.securityConfig",
        ),
        ({"name": "x", "theme": {"images": {"logoImageId": "no-such-image"}}}, "theme.images.logoImageId"),
        ({"name": "x", "subdomainId": "no-such-subdomain"}, "subdomainId"),
    ],
)
def test_invalid_configurations_are_400_naming_the_field(client, account, body, field):
    exception = assert_envelope(post(client, account, CONFIGS, body), 400, "BAD_REQUEST")
    assert field in exception["validationErrors"], exception


def test_localisation_accepts_every_language_and_browser_detection(client, account):
    from chalicelib.call_link.localisation import LANGUAGES

    assert len(LANGUAGES) == 14
    for language in LANGUAGES:
        body = {"name": language, "theme": {"localization": {"type": "PRESET", "languageCode": language}}}
        assert post(client, account, CONFIGS, body).status_code == 201
    detect = body_of(
        post(client, account, CONFIGS, {"name": "d", "theme": {"localization": {"type": "BROWSER_DETECT"}}})
    )
    assert detect["theme"]["localization"] == {"type": "BROWSER_DETECTED"}


# --- images ---------------------------------------------------------------------------------------------


def test_png_and_jpeg_are_accepted_by_content_and_stored_encrypted(client, account):
    logo = upload(client, account, png(), "LOGO", "whatever.txt", "text/plain")  # the name and type do not matter
    assert logo.status_code == 201, logo.body
    response_validator(DOC, "POST", IMAGES + "/upload/{type}", 201)(body_of(logo))
    assert body_of(logo)["type"] == "LOGO" and body_of(logo)["size"] == len(png())
    background = upload(client, account, jpeg(), "BACKGROUND", "bg.jpg", "image/jpeg")
    assert background.status_code == 201, background.body
    image = repository.get_image(account.account_id, body_of(background)["id"])
    assert image is not None and (image.image_format, image.width, image.height) == ("JPEG", 16, 8)
    head = boto3.client("s3").head_object(Bucket=get_settings().bucket, Key=image.object_key)
    assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "image/jpeg"
    assert image.object_key.startswith(f"{account.account_id}/call-link/images/")

    listed = body_of(client.get(IMAGES, headers=account.headers))
    response_validator(DOC, "GET", IMAGES, 200)(listed)
    assert [item["type"] for item in listed["results"]] == ["LOGO", "BACKGROUND"]
    one = f"{IMAGES}/{body_of(logo)['id']}"
    response_validator(DOC, "GET", IMAGES + "/{id}", 200)(body_of(client.get(one, headers=account.headers)))
    assert body_of(client.delete(one, headers=account.headers))["id"] == body_of(logo)["id"]
    assert_envelope(client.get(one, headers=account.headers), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "neither a PNG nor a JPEG"),
        (b"GIF89a" + b"\x00" * 20, "neither a PNG nor a JPEG"),
        (png()[:-12], "truncated"),
        (png()[:29] + b"\x00\x00\x00\x00" + png()[33:], "CRC"),
        (png(5000, 1), "4096"),
        (jpeg()[:-2], "truncated"),
        (b"\xff\xd8\xff\xd9", "no JPEG frame header"),
        (b"", "empty"),
    ],
)
def test_bad_images_are_400_with_the_reason(client, account, data, reason):
    exception = assert_envelope(upload(client, account, data), 400, "BAD_REQUEST")
    assert reason in exception["text"], exception
    assert body_of(client.get(IMAGES, headers=account.headers))["results"] == []


def test_an_unknown_image_type_is_404_and_an_oversized_image_413(client, account):
    assert_envelope(upload(client, account, png(), "ICON"), 404, "NOT_FOUND")
    huge = png() + b"\x00" * (2 * 1024 * 1024)
    assert_envelope(upload(client, account, huge), 413, "PAYLOAD_TOO_LARGE")


def test_a_logo_id_must_name_a_logo(client, account):
    background = body_of(upload(client, account, png(), "BACKGROUND"))
    body = {"name": "x", "theme": {"images": {"logoImageId": background["id"]}}}
    exception = assert_envelope(post(client, account, CONFIGS, body), 400, "BAD_REQUEST")
    assert "BACKGROUND" in exception["validationErrors"]["theme.images.logoImageId"][0]


# --- subdomains -----------------------------------------------------------------------------------------


def test_an_account_has_at_most_three_subdomains(client, account):
    created = []
    for name in ("sales", "support", "Team-1"):
        response = post(client, account, SUBDOMAINS, {"name": name})
        assert response.status_code == 200, response.body
        response_validator(DOC, "POST", SUBDOMAINS, 200)(body_of(response))
        created.append(body_of(response))
    assert created[2]["name"] == "team-1"
    exception = assert_envelope(post(client, account, SUBDOMAINS, {"name": "fourth"}), 400, "BAD_REQUEST")
    assert "at most 3" in exception["validationErrors"]["name"][0]
    assert_envelope(post(client, account, SUBDOMAINS, {"name": "bad.name"}), 400, "BAD_REQUEST")
    listed = body_of(client.get(SUBDOMAINS, headers=account.headers))
    response_validator(DOC, "GET", SUBDOMAINS, 200)(listed)
    assert [item["name"] for item in listed] == ["sales", "support", "team-1"]
    deleted = client.delete(f"{SUBDOMAINS}/{created[0]['id']}", headers=account.headers)
    assert body_of(deleted) == created[0]
    assert post(client, account, SUBDOMAINS, {"name": "fourth"}).status_code == 200  # a slot is free again
    assert_envelope(post(client, account, SUBDOMAINS, {"name": "support"}), 400, "BAD_REQUEST")


# --- links ----------------------------------------------------------------------------------------------


def test_a_webrtc_link_is_created_read_listed_and_deleted(client, account):
    body = {
        "identity": "customer-1",
        "displayName": "Customer One",
        "destination": {"type": "WEBRTC", "identity": "agent.smith", "displayName": "Support"},
        "customData": {"ticket": "42"},
    }
    created = post(client, account, LINKS, body)
    assert created.status_code == 201, created.body
    response_validator(DOC, "POST", LINKS, 201)(body_of(created))
    code = body_of(created)["id"]
    assert re.fullmatch(r"[0-9A-Za-z]{8}", code)
    assert body_of(created)["url"] == f"{get_settings().public_base_url}/{code}"
    got = body_of(client.get(f"{LINKS}/{code}", headers=account.headers))
    response_validator(DOC, "GET", LINKS + "/{id}", 200)(got)
    assert got["destination"] == body["destination"] and got["customData"] == {"ticket": "42"}
    assert got["validityWindow"]["oneTime"] is False
    assert "callLinkConfigId" not in got  # no configuration: the system default
    listed = body_of(client.get(LINKS, headers=account.headers))
    response_validator(DOC, "GET", LINKS, 200)(listed)
    assert [item["id"] for item in listed["results"]] == [code]
    deleted = client.delete(f"{LINKS}/{code}", headers=account.headers)
    response_validator(DOC, "DELETE", LINKS + "/{id}", 200)(body_of(deleted))
    assert_envelope(client.get(f"{LINKS}/{code}", headers=account.headers), 404, "NOT_FOUND")


def test_a_link_takes_the_default_configuration_and_its_subdomain(client, account):
    subdomain = body_of(post(client, account, SUBDOMAINS, {"name": "acme"}))
    config = body_of(post(client, account, CONFIGS, {"name": "c", "subdomainId": subdomain["id"]}))
    code = body_of(post(client, account, LINKS, {"destination": {"type": "WEBRTC", "identity": "bob"}}))["id"]
    link = body_of(client.get(f"{LINKS}/{code}", headers=account.headers))
    assert link["callLinkConfigId"] == config["id"]
    item = repository.get_link(code)
    assert item is not None and item.subdomain_id == subdomain["id"]


def test_a_room_password_is_stored_hashed_and_never_shown(client, account):
    body = {"destination": {"type": "ROOM", "roomName": "standup", "password": "open sesame"}}
    code = body_of(post(client, account, LINKS, body))["id"]
    link = body_of(client.get(f"{LINKS}/{code}", headers=account.headers))
    assert link["destination"] == {"type": "ROOM", "roomName": "standup"}
    item = repository.get_link(code)
    assert item is not None and item.password_hash and item.password_hash.startswith("scrypt$")
    assert "open sesame" not in item.document and "open sesame" not in item.password_hash


def test_an_application_link_needs_a_calls_configuration_of_the_account(client, account, other_account):
    post(client, other_account, "/calls/1/configurations", {"id": "theirs"})
    body = {"destination": {"type": "APPLICATION", "callsConfigurationId": "theirs"}}
    exception = assert_envelope(post(client, account, LINKS, body), 400, "BAD_REQUEST")
    assert "destination.callsConfigurationId" in exception["validationErrors"]
    post(client, account, "/calls/1/configurations", {"id": "mine"})
    body = {"destination": {"type": "APPLICATION", "callsConfigurationId": "mine"}}
    assert post(client, account, LINKS, body).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "destination"),
        ({"destination": {"type": "PHONE", "phoneNumber": "41793026727"}}, "destination.type"),
        ({"destination": {"type": "CONVERSATIONS"}}, "destination.type"),
        ({"destination": {"type": "WEBRTC"}}, "destination.WEBRTC.identity"),
        ({"destination": {"type": "WEBRTC", "identity": "a b"}}, "destination.WEBRTC.identity"),
        ({"destination": {"type": "ROOM", "roomName": "r1"}}, "destination.ROOM.roomName"),
        ({"destination": {"type": "ROOM", "roomName": "room", "password": "abc"}}, "destination.ROOM.password"),
        ({"identity": "me1", "destination": {"type": "ROOM", "roomName": "room"}}, "identity"),
        (
            {"destination": {"type": "ROOM", "roomName": "room"}, "validityWindow": {"oneTime": True}},
            "validityWindow.oneTime",
        ),
        ({"destination": {"type": "WEBRTC", "identity": "bob"}, "displayName": "Nameless"}, "displayName"),
        ({"destination": {"type": "WEBRTC", "identity": "bob"}, "callLinkConfigId": "nope"}, "callLinkConfigId"),
        (
            {
                "destination": {"type": "WEBRTC", "identity": "bob"},
                "validityWindow": {"startTime": "2030-01-02T00:00:00Z", "endTime": "2030-01-01T00:00:00Z"},
            },
            "validityWindow",
        ),
        (
            {"destination": {"type": "WEBRTC", "identity": "bob"}, "validityWindow": {"timeZone": "Mars/Olympus"}},
            "validityWindow.timeZone",
        ),
        (
            {"destination": {"type": "WEBRTC", "identity": "bob"}, "validityWindow": {"acceptableDays": ["FUNDAY"]}},
            "validityWindow.acceptableDays.0",
        ),
        (
            {
                "destination": {"type": "WEBRTC", "identity": "bob"},
                "validityWindow": {"acceptableHours": {"start": {"hour": 24, "minute": 0}}},
            },
            "validityWindow.acceptableHours.start.hour",
        ),
    ],
)
def test_invalid_links_are_400_naming_the_field(client, account, body, field):
    exception = assert_envelope(post(client, account, LINKS, body), 400, "BAD_REQUEST")
    assert field in exception["validationErrors"], exception


def test_a_code_collision_is_retried_never_overwritten(client, account, monkeypatch):
    from chalicelib.core import ids

    first = body_of(post(client, account, LINKS, {"destination": {"type": "WEBRTC", "identity": "bob"}}))["id"]
    codes = iter([first, first, "Zz9Zz9Zz"])
    monkeypatch.setattr(ids, "base62", lambda length: next(codes))
    second = body_of(post(client, account, LINKS, {"destination": {"type": "WEBRTC", "identity": "eve"}}))["id"]
    assert second == "Zz9Zz9Zz"
    kept = repository.get_link(first)
    assert kept is not None and json.loads(kept.document)["destination"]["identity"] == "bob"


# --- isolation ------------------------------------------------------------------------------------------


def test_another_account_cannot_read_change_or_delete_anything(client, account, other_account):
    config = body_of(post(client, account, CONFIGS, {"name": "mine"}))
    image = body_of(upload(client, account, png()))
    subdomain = body_of(post(client, account, SUBDOMAINS, {"name": "mine"}))
    code = body_of(post(client, account, LINKS, {"destination": {"type": "WEBRTC", "identity": "bob"}}))["id"]
    intruder = other_account.headers
    for path in (f"{CONFIGS}/{config['id']}", f"{IMAGES}/{image['id']}", f"{LINKS}/{code}"):
        assert_envelope(client.get(path, headers=intruder), 404, "NOT_FOUND")
        assert_envelope(client.delete(path, headers=intruder), 404, "NOT_FOUND")
    assert_envelope(client.delete(f"{SUBDOMAINS}/{subdomain['id']}", headers=intruder), 404, "NOT_FOUND")
    assert_envelope(
        client.put(f"{CONFIGS}/{config['id']}", headers={**intruder, **JSON}, body=dumps({"name": "x"})),
        404,
        "NOT_FOUND",
    )
    for path in (CONFIGS, IMAGES, LINKS):
        assert body_of(client.get(path, headers=intruder))["results"] == []
    assert body_of(client.get(SUBDOMAINS, headers=intruder)) == []
    # nor use them
    theirs = {"name": "x", "theme": {"images": {"logoImageId": image["id"]}}}
    assert_envelope(post(client, other_account, CONFIGS, theirs), 400, "BAD_REQUEST")
    link = {"destination": {"type": "WEBRTC", "identity": "bob"}, "callLinkConfigId": config["id"]}
    assert_envelope(post(client, other_account, LINKS, link), 400, "BAD_REQUEST")
    # and everything is still there for its owner
    assert client.get(f"{LINKS}/{code}", headers=account.headers).status_code == 200
    assert client.get(f"{CONFIGS}/{config['id']}", headers=account.headers).status_code == 200


def test_credentials_are_required(client):
    for path in (CONFIGS, LINKS, IMAGES, SUBDOMAINS):
        assert_envelope(client.get(path), 401, "UNAUTHORIZED")
