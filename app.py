"""Switchboard's control plane: wiring only. Routes live in `chalicelib/<domain>/routes.py`; the event consumers'
sources (outbox stream, delivery queue, dead-letter queue, recording export queue) are attached by `infra/` (and by
the local pump)."""

from __future__ import annotations

from typing import Any

from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent

from chalicelib.accounts.routes import blueprint as accounts
from chalicelib.call_link.pages import blueprint as call_link_pages
from chalicelib.call_link.routes import blueprint as call_link
from chalicelib.calls.routes import blueprint as calls
from chalicelib.calls_configurations.routes import blueprint as calls_configurations
from chalicelib.conferences.routes import blueprint as conferences
from chalicelib.core.api import install_method_fallbacks
from chalicelib.core.observability import flush_metrics, logger, tracer
from chalicelib.deliveries.routes import blueprint as deliveries
from chalicelib.dialogs.routes import blueprint as dialogs
from chalicelib.events import dead_letters, delivery, fanout
from chalicelib.files.routes import blueprint as files
from chalicelib.health.routes import blueprint as health
from chalicelib.media_nodes import reaper
from chalicelib.media_streams.routes import blueprint as media_streams
from chalicelib.recording_export.routes import blueprint as recording_export
from chalicelib.recordings import export_trigger
from chalicelib.recordings.routes import blueprint as recordings
from chalicelib.sdkfiles.routes import blueprint as sdkfiles
from chalicelib.showcase.routes import blueprint as showcase
from chalicelib.subscriptions.routes import blueprint as subscriptions
from chalicelib.webrtc.routes import blueprint as webrtc

app = Chalice(app_name="switchboard", configure_logs=False)  # Powertools owns logging
app.api.binary_types.append("multipart/form-data")  # uploads reach the app byte for byte (API Gateway: base64)

for blueprint in (
    health,
    accounts,
    calls,
    conferences,
    dialogs,
    subscriptions,
    deliveries,
    webrtc,
    sdkfiles,
    showcase,
    calls_configurations,
    media_streams,
    files,
    call_link,
    call_link_pages,
    recordings,
    recording_export,
):
    app.register_blueprint(blueprint)
install_method_fallbacks(app)


def _consume(handler: Any, event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger().set_correlation_id(getattr(context, "aws_request_id", None))
    try:
        with tracer().provider.in_subsegment(f"## {handler.__module__}"):
            result: dict[str, Any] = handler(event)
        return result
    finally:
        flush_metrics()


@app.lambda_function(name="fan_out_events")
def fan_out_events(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _consume(fanout.handle, event, context)


@app.lambda_function(name="deliver_events")
def deliver_events(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _consume(delivery.handle, event, context)


@app.lambda_function(name="archive_dead_letters")
def archive_dead_letters(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _consume(dead_letters.handle, event, context)


@app.lambda_function(name="queue_recording_exports")
def queue_recording_exports(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _consume(export_trigger.handle, event, context)


@app.lambda_function(name="export_recordings")
def export_recordings(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from chalicelib.recordings import export  # asyncssh: loaded by the exporter only, not by every API cold start

    return _consume(export.handle, event, context)


# Scheduled jobs: EventBridge rules on AWS (from Chalice's package); the local runner calls them every
# `local_schedule_seconds` (infra/local/schedules.py).
@app.schedule(Rate(1, unit=Rate.MINUTES), name="reap_dead_nodes", description="End what dead media nodes left live")
def reap_dead_nodes(event: CloudWatchEvent) -> dict[str, Any]:
    return _consume(reaper.handle, event.to_dict(), event.context)
