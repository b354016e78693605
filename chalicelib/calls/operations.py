"""The Calls API's call operations: what an application asks for, carried out by the media node that has the call.

A call to a WEBRTC identity is created here (CALL_STARTED) and handed to the live node that has the identity's
devices (each node is asked in turn, least loaded first; the leg names its node before the node is asked, so the
node's own updates never race the assignment). Actions on a call go to the node named on its leg. Endpoints that
need a SIP trunk or a carrier (PHONE, SIP, VIBER, WHATSAPP, WEBSOCKET) are refused until those exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chalicelib.calls import repository, schemas, service
from chalicelib.calls.errors import CallNotFound
from chalicelib.calls.records import CallRecord
from chalicelib.calls.schemas import CallRequest, WebRtcEndpoint
from chalicelib.contract import control
from chalicelib.core.errors import AppError, BadRequest, Conflict
from chalicelib.media_nodes.control import MediaNodeClient, MediaNodeError
from chalicelib.media_nodes.service import live_nodes

DEFAULT_CONNECT_TIMEOUT = 60


class MediaUnavailable(AppError):
    status = 503
    message_id = "SERVICE_UNAVAILABLE"


def create_call(
    account_id: str,
    request: CallRequest,
    *,
    conference_id: str | None = None,
    conference_ends_at: float | None = None,
    node_id: str | None = None,
) -> CallRecord:
    """Place the call; with `conference_id` it joins that conference when answered, on `node_id` (the node that
    mixes the conference) when given."""
    leg = start_call(account_id, request)
    return dial(
        account_id, leg, request, conference_id=conference_id, conference_ends_at=conference_ends_at, node_id=node_id
    )


def check_call_request(account_id: str, request: CallRequest) -> WebRtcEndpoint:
    """What a call can be placed to (4xx otherwise): a WebRTC identity, of an application that exists."""
    from chalicelib.calls_configurations.service import get_configuration

    endpoint = request.endpoint
    if not isinstance(endpoint, WebRtcEndpoint):
        raise BadRequest(
            "Request is invalid.",
            {"endpoint.type": [f"{endpoint.type} calls need a SIP trunk or carrier, and none is configured"]},
        )
    if request.machineDetection is not None:
        raise BadRequest("Request is invalid.", {"machineDetection": ["answering machine detection is not available"]})
    get_configuration(account_id, request.callsConfigurationId)  # 404 when the application does not exist
    return endpoint


def start_call(account_id: str, request: CallRequest) -> CallRecord:
    """The call's leg (CALL_STARTED), not rung yet: `dial` rings it."""
    endpoint = check_call_request(account_id, request)
    platform = request.platform
    return service.start_outbound_call(
        account_id,
        endpoint.identity,
        request.callsConfigurationId,
        from_=request.from_,
        from_display_name=request.fromDisplayName,
        custom_data=request.customData,
        parent_call_id=request.parentCallId,
        application_id=platform.applicationId if platform else None,
        entity_id=platform.entityId if platform else None,
    )


def dial(
    account_id: str,
    leg: CallRecord,
    request: CallRequest,
    *,
    conference_id: str | None = None,
    conference_ends_at: float | None = None,
    node_id: str | None = None,
) -> CallRecord:
    """Ring the identity of a started leg on the node that has its devices (only `node_id`, when given); a leg no
    node can ring fails (DESTINATION_NOT_FOUND)."""
    endpoint = request.endpoint
    assert isinstance(endpoint, WebRtcEndpoint)
    for node in live_nodes():
        if node_id is not None and node.node_id != node_id:
            continue
        repository.set_node(account_id, leg.call_id, node.node_id)
        try:
            MediaNodeClient(node.internal_url).dial(
                leg.call_id,
                account_id,
                endpoint.identity,
                request.callsConfigurationId,
                from_identity=request.from_,
                from_display_name=request.fromDisplayName,
                connect_timeout=request.connectTimeout or DEFAULT_CONNECT_TIMEOUT,
                custom_data=request.customData,
                conference_id=conference_id,
                conference_ends_at=conference_ends_at,
                max_duration=request.maxDuration,
            )
            return service.get_call(account_id, leg.call_id)
        except (MediaNodeError, OSError):
            continue  # the identity is not on that node (404), or the node could not take it: try the next
    return service.fail(account_id, leg.call_id, "DESTINATION_NOT_FOUND")


def node_client(node_id: str | None, what: str = "call") -> MediaNodeClient:
    """The client of the live media node `node_id` (503 when it is gone)."""
    node = next((node for node in live_nodes() if node.node_id == node_id), None) if node_id else None
    if node is None:
        raise MediaUnavailable(f"The media node handling this {what} is not available.")
    return MediaNodeClient(node.internal_url)


def _node_of(record: CallRecord) -> MediaNodeClient:
    if record.is_terminal:
        raise Conflict("A finished call never changes.")
    return node_client(record.node_id)


@contextmanager
def node_errors(what: str, operation: str, not_found: AppError | None = None) -> Iterator[None]:
    """A media node's refusal as the API's error: 404 → `not_found` (else 409: the node no longer has it), 409 → 409,
    400 → 400 with the node's explanation (bad content), anything else or no answer → 503."""
    try:
        yield
    except MediaNodeError as error:
        if error.status == 404 and not_found is not None:
            raise not_found from error
        if error.status in (404, 409):
            raise Conflict(f"The {what} cannot {operation.replace('-', ' ')} now: {node_text(error)}.") from error
        if error.status == 400:
            raise BadRequest("Request is invalid.", {"content": [node_text(error)]}) from error
        raise MediaUnavailable("The media node could not carry out the request.") from error
    except OSError as error:
        raise MediaUnavailable(f"The media node handling this {what} is not reachable.") from error


def _on_node(record: CallRecord, operation: str, *args: str, body: control._Body | None = None) -> None:
    client = _node_of(record)
    with node_errors("call", operation, CallNotFound(record.call_id)):
        if operation == "hangup":
            client.hangup(record.call_id, *args)
        else:
            client.action(record.call_id, operation, body)


def application_action(account_id: str, call_id: str, action: str) -> None:
    """`send-ringing`, `pre-answer` or `answer` an inbound call."""
    _on_node(service.get_call(account_id, call_id), action)


def hangup(account_id: str, call_id: str, error_code: str) -> CallRecord:
    _on_node(service.get_call(account_id, call_id), "hangup", error_code)
    return service.get_call(account_id, call_id)


def broadcast_text(account_id: str, call_ids: list[str], text: str) -> None:
    """Send `text` to every live WebRTC call among `call_ids` (the SDK's `broadcast-text-received`: the
    `broadcast-webrtc-text` of dialogs and conferences); calls of other endpoint types are skipped. 409 when none
    of them is a live WebRTC call."""
    sent = 0
    for call_id in call_ids:
        call = service.get_call(account_id, call_id)
        if call.is_terminal or not isinstance(call.endpoint, WebRtcEndpoint):
            continue
        with node_errors("call", "receive text", CallNotFound(call_id)):
            node_client(call.node_id).action(call_id, "broadcast-text", control.BroadcastTextRequest(text=text))
        sent += 1
    if not sent:
        raise Conflict("No live WebRTC call is there to receive the text.")


def node_text(error: MediaNodeError) -> str:
    """The node's explanation of a refused action (its JSON `text`), for the error's text."""
    import json

    try:
        return str(json.loads(error.body).get("text") or "the media node refused it")
    except ValueError:
        return "the media node refused it"


def play_content(account_id: str, content: schemas.PlayContent, field: str) -> control.PlayContent:
    """Check what is to be played before the node is asked: the file exists, the URL may be fetched."""
    if content.type in ("RECORDING", "TTY"):
        raise BadRequest("Request is invalid.", {f"{field}.type": [f"{content.type} content is not available"]})
    if content.type == "FILE":
        from chalicelib.files.service import get_file

        if not content.fileId:
            raise BadRequest("Request is invalid.", {f"{field}.fileId": ["must be set for FILE content"]})
        try:
            get_file(account_id, content.fileId)
        except AppError as error:
            raise BadRequest("Request is invalid.", {f"{field}.fileId": ["no such file"]}) from error
    elif content.type == "URL":
        from chalicelib.core.urlpolicy import check_url

        if not content.fileUrl:
            raise BadRequest("Request is invalid.", {f"{field}.fileUrl": ["must be set for URL content"]})
        check_url(content.fileUrl, f"{field}.fileUrl")
    elif not content.text or not content.language:
        raise BadRequest("Request is invalid.", {f"{field}.text": ["TEXT content needs text and language"]})
    preferences = content.preferences
    return control.PlayContent.model_validate(
        {
            "type": content.type,
            "fileId": content.fileId,
            "fileUrl": content.fileUrl,
            "text": content.text,
            "language": content.language,
            "speechRate": content.speechRate,
            "voiceGender": preferences.voiceGender if preferences else None,
            "voiceName": preferences.voiceName if preferences else None,
        }
    )


def _terminator(stop_on: schemas.Termination | None) -> str | None:
    return None if stop_on is None else (stop_on.terminator or "")


def play(account_id: str, call_id: str, request: schemas.PlayRequest) -> None:
    record = service.get_call(account_id, call_id)
    body = control.PlayRequest(
        content=play_content(account_id, request.content, "content"),
        loopCount=request.loopCount,
        timeoutMs=request.timeout,
        offsetMs=request.offset,
        stopOnTerminator=_terminator(request.stopOn),
        customData=request.customData,
    )
    _on_node(record, "play", body=body)


def say(account_id: str, call_id: str, request: schemas.SayRequest) -> None:
    record = service.get_call(account_id, call_id)
    content = schemas.PlayContent(
        type="TEXT",
        text=request.text,
        language=request.language,
        speechRate=request.speechRate,
        preferences=request.preferences,
    )
    body = control.PlayRequest(
        content=play_content(account_id, content, "text"),
        report="SAY_FINISHED",
        loopCount=request.loopCount,
        stopOnTerminator=_terminator(request.stopOn),
        customData=request.customData,
    )
    _on_node(record, "play", body=body)


def stop_play(account_id: str, call_id: str) -> None:
    _on_node(service.get_call(account_id, call_id), "stop-play")


def capture_dtmf(account_id: str, call_id: str, request: schemas.CaptureDtmfRequest) -> None:
    record = service.get_call(account_id, call_id)
    if request.playContent is not None:
        raise BadRequest("Request is invalid.", {"playContent": ["play the prompt with play or say first"]})
    body = control.CaptureDtmfRequest(
        maxLength=request.maxLength,
        timeoutMs=request.timeout,
        terminator=request.terminator,
        digitTimeoutMs=request.digitTimeout,
        customData=request.customData,
    )
    _on_node(record, "capture-dtmf", body=body)


def send_dtmf(account_id: str, call_id: str, request: schemas.SendDtmfRequest) -> None:
    _on_node(service.get_call(account_id, call_id), "send-dtmf", body=control.SendDtmfRequest(dtmf=request.dtmf))


def start_media_stream(account_id: str, call_id: str, request: schemas.StartMediaStreamRequest) -> None:
    """Stream the call to the account's media-stream configuration. The credentials are decrypted here and travel
    to the node on the signed internal channel; the node checks the URL again when it connects."""
    from chalicelib.media_streams.errors import MediaStreamConfigNotFound
    from chalicelib.media_streams.service import connection_for

    record = service.get_call(account_id, call_id)
    audio = request.mediaStream.audioProperties
    field = "mediaStream.audioProperties"
    if audio.multiChannel is not None and audio.multiChannel.enabled:
        raise BadRequest("Request is invalid.", {f"{field}.multiChannel": ["a call's audio is streamed mono"]})
    try:
        connection = connection_for(account_id, audio.mediaStreamConfigId)
    except MediaStreamConfigNotFound as error:
        raise BadRequest(
            "Request is invalid.", {f"{field}.mediaStreamConfigId": ["no such media-stream configuration"]}
        ) from error
    body = control.StartMediaStreamRequest(
        mediaStreamConfigId=audio.mediaStreamConfigId,
        url=connection.url,
        authorization=connection.headers.get("Authorization"),
        replaceMedia=audio.replaceMedia,
        customData=record.custom_data,
    )
    _on_node(record, "start-media-stream", body=body)


def stop_media_stream(account_id: str, call_id: str) -> None:
    _on_node(service.get_call(account_id, call_id), "stop-media-stream")
