"""The branded call-link page, rendered on the server: the link's state, the configuration's colours, images, texts
(localised) and options, and the data the page's script needs to start a call.

Everything user-supplied is escaped for where it lands: HTML text through `html.escape`, the script's data as JSON
with `<`, `>` and `&` escaped (so no `</script>` can close the block), colours only as the six hex digits the
schema normalised. An unknown code gets a plain 404 page.
"""

from __future__ import annotations

import functools
import html
import json
import re
from importlib import resources
from typing import Any

from chalicelib.call_link import localisation
from chalicelib.call_link.configurations import effective_config
from chalicelib.call_link.links import ResolvedLink
from chalicelib.call_link.schemas import CallLinkConfig

RIGHT_TO_LEFT = {"ar-AE"}
STATE_MESSAGES = {"ACTIVE": "welcomeText", "INACTIVE": "inactiveText", "EXPIRED": "expirationText"}


@functools.cache
def _static(name: str) -> str:
    return (resources.files("chalicelib.call_link") / "static" / name).read_text(encoding="utf-8")


def _script_json(value: Any) -> str:
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def image_path(code: str, kind: str) -> str:
    return f"call-link/page/{code}/images/{kind}"


def _destination(link: ResolvedLink, config: CallLinkConfig) -> dict[str, Any]:
    destination = link.document["destination"]
    view: dict[str, Any] = {"type": destination["type"], "displayName": destination.get("displayName")}
    if destination["type"] == "WEBRTC":
        view["identity"] = destination["identity"]
    elif destination["type"] == "ROOM":
        view.update(
            roomName=destination["roomName"],
            protected=link.item.password_hash is not None,
            chat=bool(destination.get("chat")) or config.callOptions.chat,
        )
    elif destination["type"] == "APPLICATION":
        view["callsConfigurationId"] = destination["callsConfigurationId"]
    return view


def _data(link: ResolvedLink, config: CallLinkConfig, language: str, texts: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"code": link.item.code, "state": link.state, "language": language, "texts": texts}
    if link.state != "ACTIVE":
        return data
    identity = link.document.get("identity")
    data.update(
        theme={"layouts": config.theme.layouts},
        initialOptions=config.initialOptions.model_dump(exclude_none=True),
        callOptions=config.callOptions.model_dump(),
        destination=_destination(link, config),
        user={
            "needsName": identity is None,
            "displayName": link.document.get("displayName") if link.document.get("showIdentity", True) else None,
        },
    )
    return data


def _fill(template: str, values: dict[str, str]) -> str:
    """One pass over the template: a value is never searched for placeholders itself."""
    return re.sub(r"%%([A-Z_]+)%%", lambda match: values[match.group(1)], template)


def render(link: ResolvedLink, accept_language: str | None) -> str:
    config = effective_config(link.item.account_id, link.item.config_id)
    language = localisation.choose(config.theme.localization, accept_language)
    texts = {**localisation.texts(language), **localisation.page_messages(config.theme.messages, language)}
    images = config.theme.images
    logo = ""
    if images and images.logoImageId:
        logo = f'<img id="logo" src="{image_path(link.item.code, "logo")}" alt="" />'
    background = f'url("{image_path(link.item.code, "background")}")' if images and images.backgroundImageId else ""
    destination = link.document["destination"].get("displayName") if link.state == "ACTIVE" else None
    colors = config.theme.colors
    message = texts[STATE_MESSAGES[link.state]]
    return _fill(
        _static("page.html"),
        {
            "LANG": language,
            "DIR": "rtl" if language in RIGHT_TO_LEFT else "ltr",
            "TITLE": html.escape(message),
            "PRIMARY": colors.primary,
            "PRIMARY_TEXT": colors.primaryText,
            "BACKGROUND": colors.background,
            "BACKGROUND_IMAGE": background,
            "STATE": link.state.lower(),
            "LOGO": logo,
            "MESSAGE": html.escape(message),
            "DESTINATION": html.escape(destination or ""),
            "DATA": _script_json(_data(link, config, language, texts)),
            "SCRIPT": _static("page.js") if link.state == "ACTIVE" else "",
        },
    )


def not_found(accept_language: str | None) -> str:
    language = localisation.choose(None, accept_language)
    message = html.escape(localisation.texts(language)["notFound"])
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8" /><title>404</title></head>'
        f"<body><h1>404</h1><p>{message}</p></body></html>"
    )
