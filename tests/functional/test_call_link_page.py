"""The call-link page and its session on moto, with a controlled clock: which state a link's page shows (time
window, valid days and hours in a time zone, the default 24 hours, one-time use counted only once a call is
answered, a deleted subdomain), the theme and localised texts in the HTML, escaping, the session's token (the
link's identity or the typed name), room passwords with limited attempts, and one caller at a time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.calls import service as calls
from chalicelib.contract.tokens import verify
from chalicelib.core import clock
from chalicelib.webrtc.service import token_key
from tests.functional.test_call_link_api import png, upload
from tests.support.envelope import assert_envelope
from tests.support.payloads import JSON, dumps

HTML = {"Accept": "text/html,application/xhtml+xml", "Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    clock.reset()
    clock.freeze()
    yield
    clock.reset()


def travel_to(moment: datetime) -> None:
    clock.shift(moment.timestamp() - clock.epoch())


def body_of(response):
    return json.loads(response.body)


def create(client, account, path, body):
    response = client.post(path, headers={**account.headers, **JSON}, body=dumps(body))
    assert response.status_code in (200, 201), response.body
    return body_of(response)


def link(client, account, destination=None, **extra) -> str:
    body = {"destination": destination or {"type": "WEBRTC", "identity": "agent"}, **extra}
    return str(create(client, account, "/call-link/1/links", body)["id"])


def page(client, code, headers=None):
    return client.get(f"/{code}", headers={**HTML, **(headers or {})})


def state_of(response) -> str:
    assert response.status_code == 200, response.body
    found = re.search(r'<body class="state-(\w+)">', response.body.decode())
    assert found, response.body[:300]
    return found.group(1)


def message_of(response) -> str:
    found = re.search(r'<h1 id="message">(.*?)</h1>', response.body.decode())
    assert found
    return found.group(1)


def found(pattern: str, html: str) -> str:
    match = re.search(pattern, html)
    assert match is not None, (pattern, html[:300])
    return match.group(1)


def page_data(html: str) -> dict:
    return dict(json.loads(found(r'id="call-link-data">(.*?)</script>', html)))


def start(client, code, body=None):
    return client.post(f"/call-link/page/{code}/session", headers=JSON, body=dumps(body or {}))


def report(client, code, session_id, status, call_id=None):
    body = {"status": status, **({"callId": call_id} if call_id else {})}
    headers = {**JSON, "X-Call-Link-Session": session_id}
    return client.post(f"/call-link/page/{code}/session/report", headers=headers, body=dumps(body))


# --- states ---------------------------------------------------------------------------------------------


def test_without_a_window_a_link_is_active_for_24_hours_then_expired(client, account):
    code = link(client, account)
    shown = page(client, code)
    assert state_of(shown) == "active" and message_of(shown) == "Welcome to Call Link."
    assert shown.headers["Cache-Control"] == "no-store"
    clock.shift(24 * 3600 - 1)
    assert state_of(page(client, code)) == "active"
    clock.shift(1)
    expired = page(client, code)
    assert state_of(expired) == "expired" and message_of(expired) == "Link is expired."
    assert "createSwitchboardRtc" not in expired.body.decode()  # no call controls on an expired link


def test_a_time_window_is_inactive_before_and_expired_after(client, account):
    config = {"name": "t", "theme": {"messages": {"inactiveText": "Opens at nine", "expirationText": "Closed"}}}
    create(client, account, "/call-link/1/configs", config)
    now = clock.now()
    window = {
        "startTime": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "endTime": (now + timedelta(hours=3)).isoformat(),
    }
    code = link(client, account, validityWindow=window)
    before = page(client, code)
    assert state_of(before) == "inactive" and message_of(before) == "Opens at nine"
    assert_envelope(start(client, code), 409, "CONFLICT")
    clock.shift(3600)
    assert state_of(page(client, code)) == "active"
    clock.shift(2 * 3600)
    after = page(client, code)
    assert state_of(after) == "expired" and message_of(after) == "Closed"


def test_valid_days_and_hours_are_read_in_the_links_time_zone(client, account):
    travel_to(datetime(2030, 1, 7, 6, 0, tzinfo=UTC))  # a Monday, 07:00 in Zagreb (UTC+1 in winter)
    window = {
        "endTime": "2030-02-01T00:00:00.000+0000",
        "acceptableDays": ["MONDAY", "TUESDAY"],
        "acceptableHours": {"start": {"hour": 8, "minute": 0}, "end": {"hour": 16, "minute": 30}},
        "timeZone": "Europe/Zagreb",
    }
    code = link(client, account, validityWindow=window)
    shown = body_of(client.get(f"/call-link/1/links/{code}", headers=account.headers))["validityWindow"]
    assert shown["acceptableDays"] == ["MONDAY", "TUESDAY"] and shown["timeZone"] == "Europe/Zagreb"
    expectations = [
        (datetime(2030, 1, 7, 6, 59, tzinfo=UTC), "inactive"),  # 07:59 local
        (datetime(2030, 1, 7, 7, 0, tzinfo=UTC), "active"),  # 08:00 local
        (datetime(2030, 1, 7, 15, 30, tzinfo=UTC), "active"),  # 16:30 local: the end minute counts
        (datetime(2030, 1, 7, 15, 31, tzinfo=UTC), "inactive"),
        (datetime(2030, 1, 8, 10, 0, tzinfo=UTC), "active"),  # Tuesday
        (datetime(2030, 1, 9, 10, 0, tzinfo=UTC), "inactive"),  # Wednesday
        (datetime(2030, 1, 6, 23, 30, tzinfo=UTC), "inactive"),  # Monday 00:30 local, before the hours
    ]
    for moment, expected in expectations:
        travel_to(moment)
        assert state_of(page(client, code)) == expected, moment


def test_hours_may_wrap_midnight(client, account):
    travel_to(datetime(2030, 3, 1, 12, 0, tzinfo=UTC))
    hours = {"start": {"hour": 22, "minute": 0}, "end": {"hour": 6, "minute": 0}}
    code = link(client, account, validityWindow={"acceptableHours": hours})
    for hour, expected in ((21, "inactive"), (23, "active"), (3, "active"), (7, "inactive")):
        travel_to(datetime(2030, 3, 1 if hour > 12 else 2, hour, 30, tzinfo=UTC))
        assert state_of(page(client, code)) == expected, hour


def test_a_one_time_link_is_used_only_once_a_call_is_answered(client, account):
    code = link(client, account, identity="visitor", validityWindow={"oneTime": True})
    session = body_of(start(client, code))
    # opening the page and even starting a session does not use the link
    assert state_of(page(client, code)) == "active"
    # the page's word alone is not enough: the call must exist, be this session's and be answered
    assert_envelope(report(client, code, session["sessionId"], "ESTABLISHED", "made-up"), 400, "BAD_REQUEST")
    caller, _callee = calls.start_webrtc_call(account.account_id, "visitor", None, "agent", None)
    assert_envelope(report(client, code, session["sessionId"], "ESTABLISHED", caller.call_id), 400, "BAD_REQUEST")
    calls.establish(account.account_id, caller.call_id)
    assert state_of(page(client, code)) == "active"
    assert report(client, code, session["sessionId"], "ESTABLISHED", caller.call_id).status_code == 200
    used = page(client, code)
    assert state_of(used) == "expired"
    assert report(client, code, session["sessionId"], "FINISHED").status_code == 200
    assert_envelope(start(client, code), 409, "CONFLICT")


def test_a_room_is_never_used_up(client, account):
    code = link(client, account, {"type": "ROOM", "roomName": "daily-standup"})
    session = body_of(start(client, code, {"displayName": "Ana"}))
    assert report(client, code, session["sessionId"], "ESTABLISHED").status_code == 200
    assert state_of(page(client, code)) == "active"
    assert start(client, code, {"displayName": "Ben"}).status_code == 201


def test_deleting_a_subdomain_invalidates_its_links(client, account):
    subdomain = create(client, account, "/call-link/1/subdomains", {"name": "help"})
    create(client, account, "/call-link/1/configs", {"name": "with subdomain", "subdomainId": subdomain["id"]})
    code = link(client, account)
    assert state_of(page(client, code)) == "active"
    client.delete(f"/call-link/1/subdomains/{subdomain['id']}", headers=account.headers)
    gone = page(client, code)
    assert gone.status_code == 404 and "text/html" in gone.headers["Content-Type"]
    assert_envelope(start(client, code), 404, "NOT_FOUND")


def test_unknown_codes_are_a_plain_404_page_or_infobips_404(client):
    html = page(client, "NoSuchCode")
    assert html.status_code == 404 and "<h1>404</h1>" in html.body.decode()
    assert_envelope(client.get("/NoSuchCode"), 404, "NOT_FOUND")
    assert client.get("/?", headers=HTML).status_code == 404
    assert client.get("/health").status_code == 200  # concrete routes still win over /{code}


# --- what the page shows --------------------------------------------------------------------------------


def test_the_sms_form_with_the_code_in_the_query_shows_the_same_page(client, account):
    code = link(client, account)
    by_query = client.get(f"/?{code}", headers=HTML)
    assert state_of(by_query) == "active"
    assert by_query.body == page(client, code).body


def test_the_page_carries_the_theme_the_options_and_preset_texts(client, account):
    logo = body_of(upload(client, account, png(), "LOGO"))
    config = {
        "name": "branded",
        "initialOptions": {"audio": True, "video": False},
        "callOptions": {"screenShare": False},
        "theme": {
            "colors": {"primary": "FF0066", "primaryText": "101010", "background": "FAFAFA"},
            "images": {"logoImageId": logo["id"]},
            "layouts": ["SPOTLIGHT", "GRID"],
            "localization": {"type": "PRESET", "languageCode": "de-DE"},
        },
    }
    create(client, account, "/call-link/1/configs", config)
    code = link(client, account, {"type": "WEBRTC", "identity": "agent", "displayName": "Ihr Support"})
    html = page(client, code, {"Accept-Language": "fr-FR"}).body.decode()  # PRESET wins over the browser
    assert "--primary: #FF0066;" in html and "--background: #FAFAFA;" in html
    assert '<html lang="de-DE" dir="ltr">' in html
    assert '<h1 id="message">Willkommen bei Call Link.</h1>' in html
    assert '<p id="destination">Ihr Support</p>' in html
    data = page_data(html)
    assert data["texts"]["startAudioCall"] == "Audioanruf starten"
    assert data["initialOptions"]["video"] is False and data["callOptions"]["screenShare"] is False
    assert data["theme"]["layouts"] == ["SPOTLIGHT", "GRID"]
    assert data["destination"] == {"type": "WEBRTC", "identity": "agent", "displayName": "Ihr Support"}
    assert data["user"]["needsName"] is True
    logo_path = found(r'<img id="logo" src="([^"]+)"', html)
    served = client.get(f"/{logo_path}", headers={"Accept": "image/avif,image/webp,*/*;q=0.8"})  # as <img> asks
    assert served.status_code == 200 and served.body == png() and served.headers["Content-Type"] == "image/png"
    assert client.get(f"/call-link/page/{code}/images/background", headers={"Accept": "*/*"}).status_code == 404


@pytest.mark.parametrize(
    ("accept_language", "language", "welcome"),
    [
        ("ja-JP,ja;q=0.9", "ja-JP", "Call Link へようこそ。"),
        ("de-CH;q=0.4, ar;q=0.8", "ar-AE", "مرحبًا بك في Call Link."),
        ("zh-CN", "zh-Hans", "欢迎使用 Call Link。"),
        ("pl-PL, nl", "en-US", "Welcome to Call Link."),
        ("", "en-US", "Welcome to Call Link."),
    ],
)
def test_browser_detection_picks_the_best_supported_language(client, account, accept_language, language, welcome):
    create(
        client, account, "/call-link/1/configs", {"name": "d", "theme": {"localization": {"type": "BROWSER_DETECTED"}}}
    )
    html = page(client, link(client, account), {"Accept-Language": accept_language}).body.decode()
    assert f'lang="{language}"' in html and f'<h1 id="message">{welcome}</h1>' in html


def test_configured_texts_are_shown_as_written_and_escaped(client, account):
    hostile = '</script><script>alert("x")</script><b>'
    create(client, account, "/call-link/1/configs", {"name": "x", "theme": {"messages": {"welcomeText": hostile}}})
    code = link(client, account, {"type": "WEBRTC", "identity": "agent", "displayName": "<img src=x onerror=1>"})
    html = page(client, code).body.decode()
    assert hostile not in html and "<img src=x" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)" in html
    assert page_data(html)["texts"]["welcomeText"] == hostile


# --- the session ----------------------------------------------------------------------------------------


def test_the_session_token_is_minted_for_the_links_identity(client, account):
    code = link(client, account, identity="customer-7", displayName="Customer Seven")
    response = start(client, code)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    session = body_of(response)
    claims = verify(session["token"], token_key(), clock.epoch())
    assert (claims.identity, claims.name, claims.acc) == ("customer-7", "Customer Seven", account.account_id)
    assert session["identity"] == "customer-7" and len(session["sessionId"]) >= 32
    assert session["token"] not in page(client, code).body.decode()


def test_without_an_identity_the_page_asks_for_a_name_and_the_token_carries_it(client, account):
    code = link(client, account)
    exception = assert_envelope(start(client, code), 400, "BAD_REQUEST")
    assert "displayName" in exception["validationErrors"]
    session = body_of(start(client, code, {"displayName": "  Ana Marić  "}))
    claims = verify(session["token"], token_key(), clock.epoch())
    assert claims.name == "Ana Marić" and re.fullmatch(r"Ana-Marić-[0-9A-Za-z]{6}", claims.identity)


def test_a_webrtc_destination_takes_one_caller_at_a_time(client, account):
    code = link(client, account, {"type": "WEBRTC", "identity": "agent"})
    first = body_of(start(client, code, {"displayName": "First"}))
    assert_envelope(start(client, code, {"displayName": "Second"}), 429, "TOO_MANY_REQUESTS")
    clock.shift(50)
    assert report(client, code, first["sessionId"], "HEARTBEAT").status_code == 200  # keeps the line
    clock.shift(50)
    assert_envelope(start(client, code, {"displayName": "Second"}), 429, "TOO_MANY_REQUESTS")
    assert report(client, code, first["sessionId"], "FINISHED").status_code == 200
    second = body_of(start(client, code, {"displayName": "Second"}))
    clock.shift(61)  # a page that vanished without a word: its lease runs out
    assert start(client, code, {"displayName": "Third"}).status_code == 201
    assert_envelope(report(client, code, "not-a-session", "HEARTBEAT"), 404, "NOT_FOUND")
    other = link(client, account)
    assert_envelope(report(client, other, second["sessionId"], "HEARTBEAT"), 404, "NOT_FOUND")


def test_a_room_takes_anyone(client, account):
    code = link(client, account, {"type": "ROOM", "roomName": "town-hall"})
    for name in ("A", "B", "C"):
        assert start(client, code, {"displayName": name}).status_code == 201


def test_room_passwords_are_checked_and_wrong_attempts_limited(client, account):
    code = link(client, account, {"type": "ROOM", "roomName": "board-room", "password": "s3cret pass"})
    data = page_data(page(client, code).body.decode())
    assert data["destination"]["protected"] is True and "s3cret" not in json.dumps(data)
    assert "4 attempts left" in assert_envelope(start(client, code, {"displayName": "A"}), 403, "FORBIDDEN")["text"]
    wrong = {"displayName": "A", "password": "guess"}
    assert "3 attempts left" in assert_envelope(start(client, code, wrong), 403, "FORBIDDEN")["text"]
    assert start(client, code, {"displayName": "A", "password": "s3cret pass"}).status_code == 201  # resets
    for left in (4, 3, 2, 1):
        assert f"{left} attempts left" in assert_envelope(start(client, code, wrong), 403, "FORBIDDEN")["text"]
    assert_envelope(start(client, code, wrong), 429, "TOO_MANY_REQUESTS")
    right = {"displayName": "A", "password": "s3cret pass"}
    assert_envelope(start(client, code, right), 429, "TOO_MANY_REQUESTS")  # locked, even for the right one
    clock.shift(15 * 60 + 1)
    assert start(client, code, right).status_code == 201


def test_bad_session_requests_are_clear_4xx(client, account):
    code = link(client, account)
    assert_envelope(client.post(f"/call-link/page/{code}/session", headers=JSON, body="{"), 400, "BAD_REQUEST")
    assert_envelope(start(client, code, {"displayName": "x" * 51}), 400, "BAD_REQUEST")
    assert_envelope(start(client, "NoSuchCode", {"displayName": "A"}), 404, "NOT_FOUND")
    session = body_of(start(client, code, {"displayName": "A"}))
    assert_envelope(report(client, code, session["sessionId"], "PAUSED"), 400, "BAD_REQUEST")
