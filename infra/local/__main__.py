"""`python -m infra.local` — the whole platform on 127.0.0.1, in one process tree, with no AWS account.

Starts moto, provisions it from `infra.resources`, creates the development account (the showcase's demo tokens are
its tokens), starts the pump and the API server, prints the URLs and the development key, and shuts everything down
on Ctrl-C or SIGTERM. The last line it prints before serving is `SWITCHBOARD_READY <json>` for programs (tests,
benchmarks) that start it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from chalice.config import Config

ROOT = Path(__file__).resolve().parents[2]


def _stage_environment() -> None:
    """Apply `.chalice/config.json`'s `local` stage variables (the environment wins)."""
    config = Config(chalice_stage="local", config_from_disk=json.loads((ROOT / ".chalice" / "config.json").read_text()))
    for name, value in config.environment_variables.items():
        os.environ.setdefault(name, value)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    _stage_environment()
    port = int(os.environ.get("SWITCHBOARD_API_PORT", "8000"))

    from infra.local.aws import provision, start_moto

    aws = start_moto(int(os.environ.get("SWITCHBOARD_MOTO_PORT", "0")))
    prefix = os.environ["SWITCHBOARD_TABLE_PREFIX"]
    os.environ.update(provision(prefix))

    from chalicelib.core.settings import get_settings, reset_settings_cache

    reset_settings_cache()

    from app import app
    from chalicelib.accounts.service import ensure_account_with_key
    from infra.local.media import start_media_node
    from infra.local.pump import Pump
    from infra.local.schedules import Schedules
    from infra.local.server import ApiServer
    from infra.resources import EVENT_SOURCES

    # Bound before anything reads the settings: with port 0 the OS picks the port, and links (call-link URLs)
    # must name the one actually served.
    server = ApiServer(app, port)
    os.environ.setdefault("SWITCHBOARD_PUBLIC_BASE_URL", f"http://127.0.0.1:{server.port}")
    reset_settings_cache()

    dev_key = os.environ.get("SWITCHBOARD_DEV_API_KEY") or ("sbk_dev_" + secrets.token_urlsafe(24))
    dev_password = os.environ.get("SWITCHBOARD_DEV_PASSWORD") or secrets.token_urlsafe(12)
    account = ensure_account_with_key("Development", "dev", dev_password, dev_key)
    os.environ["SWITCHBOARD_SHOWCASE_ACCOUNT_ID"] = account.accountId  # the showcase's tokens are this account's
    reset_settings_cache()

    pump = Pump(app, EVENT_SOURCES, prefix, dict(os.environ))
    pump.start()
    schedules = Schedules(app, get_settings().local_schedule_seconds)  # the reaper: `make run` behaves like AWS
    schedules.start()
    server.start()
    api_url = f"http://127.0.0.1:{server.port}"
    media = start_media_node(ROOT, int(os.environ.get("SWITCHBOARD_MEDIA_PORT", "8100")))

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())

    print(
        f"Switchboard is running (stage local)\n"
        f"  API            {api_url}\n"
        f"  health         {api_url}/health\n"
        f"  media node     {media.url} ({media.node_id})\n"
        f"  showcase       {api_url}/showcase (calls, rooms, screen share and chat in the browser)\n"
        f"  embedded AWS   {aws.endpoint}\n"
        f"  account        {account.accountId} (user 'dev', password {dev_password})\n"
        f"  API key        {dev_key}\n"
        f"  try:  curl -H 'Authorization: App {dev_key}' {api_url}/accounts/1/account\n"
        f"Ctrl-C stops everything.",
        flush=True,
    )
    ready = {
        "apiUrl": api_url,
        "mediaUrl": media.url,
        "mediaNodeId": media.node_id,
        "mediaPid": media.process.pid,  # tests kill it to play a lost node
        "showcaseUrl": f"{api_url}/showcase",
        "awsEndpoint": aws.endpoint,
        "apiKey": dev_key,
        "accountId": account.accountId,
        "username": "dev",
        "password": dev_password,
        "tablePrefix": prefix,
        "deliveryQueueUrl": os.environ["SWITCHBOARD_DELIVERY_QUEUE_URL"],
        "keysSecretId": os.environ["SWITCHBOARD_KEYS_SECRET_ID"],
    }
    print("SWITCHBOARD_READY " + json.dumps(ready), flush=True)

    stopping.wait()
    print("Stopping…", flush=True)
    media.stop()
    server.stop()
    schedules.stop()
    pump.stop()
    aws.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
