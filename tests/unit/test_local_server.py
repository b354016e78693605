"""The local HTTP server: one app invocation at a time (Chalice keeps the current request on the app object), paths
no route matches get Infobip's 404, and a response is complete on a kept-alive connection."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from chalice import Chalice

from infra.local.server import ApiServer


@pytest.fixture
def server():
    app = Chalice(app_name="probe")

    @app.route("/who")
    def who():
        time.sleep(0.02)  # long enough for another request to arrive meanwhile
        request = app.current_request
        assert request is not None
        return {"who": request.headers["x-who"]}

    running = ApiServer(app, 0)
    running.start()
    yield f"http://127.0.0.1:{running.port}"
    running.stop()


def test_concurrent_requests_each_see_their_own_request(server):
    def call(index: int) -> tuple[str, str]:
        response = httpx.get(f"{server}/who", headers={"x-who": str(index)})
        return response.json()["who"], str(index)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(call, range(24)))
    assert all(seen == sent for seen, sent in results)


def test_unknown_paths_get_the_infobip_404(server):
    response = httpx.get(f"{server}/nowhere")
    assert response.status_code == 404
    assert response.json()["requestError"]["serviceException"]["messageId"] == "NOT_FOUND"


def test_keep_alive_responses_are_complete(server):
    with httpx.Client() as client:
        for index in range(5):
            assert client.get(f"{server}/who", headers={"x-who": f"k{index}"}).json() == {"who": f"k{index}"}
