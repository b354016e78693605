"""The media node publishes its load as the EMF metric the fleet's autoscaling reads (same names as infra/cdk)."""

from __future__ import annotations

import json

from infra.cdk.media_fleet import LOAD_METRIC as FLEET_METRIC
from infra.cdk.media_fleet import LOAD_NAMESPACE as FLEET_NAMESPACE
from switchboard_media.registry import LOAD_METRIC, LOAD_NAMESPACE, load_percent, publish_load


def test_the_node_publishes_what_the_fleet_scales_on(capsys, monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    assert (LOAD_NAMESPACE, LOAD_METRIC) == (FLEET_NAMESPACE, FLEET_METRIC)
    publish_load(calls=30, capacity=200, stage="prod")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Switchboard"
    assert directive["Metrics"][0]["Name"] == "MediaNodeLoad" and directive["Metrics"][0]["Unit"] == "Percent"
    assert line["MediaNodeLoad"] in (15.0, [15.0])  # EMF allows a value or a list of values
    assert line["service"] == "media" and line["stage"] == "prod"


def test_load_is_a_share_of_capacity():
    assert load_percent(0, 200) == 0.0
    assert load_percent(150, 200) == 75.0
    assert load_percent(3, 0) == 100.0
