"""`GET /sdk/v1/switchboard-rtc.js` through the app: public, JavaScript, cacheable, loadable cross-origin."""

from __future__ import annotations

from chalicelib.sdkfiles import service


def test_the_sdk_is_served_publicly_as_javascript_with_caching_headers(client):
    response = client.get("/sdk/v1/switchboard-rtc.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "max-age=" in response.headers["Cache-Control"]
    assert response.headers["ETag"] == service.sdk_file("v1", "switchboard-rtc.js").etag
    # module scripts are fetched in CORS mode: without this header no other origin's page could import it
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.body.decode() == service.sdk_file("v1", "switchboard-rtc.js").body


def test_a_client_holding_the_current_etag_gets_304_without_a_body(client):
    etag = client.get("/sdk/v1/switchboard-rtc.js").headers["ETag"]
    response = client.get("/sdk/v1/switchboard-rtc.js", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.body in (b"", None)
    assert response.headers["ETag"] == etag


def test_a_stale_etag_gets_the_file(client):
    response = client.get("/sdk/v1/switchboard-rtc.js", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200 and response.body


def test_other_methods_get_405_in_the_infobip_envelope(client):
    response = client.post("/sdk/v1/switchboard-rtc.js", body=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 405
    assert b"METHOD_NOT_ALLOWED" in response.body
