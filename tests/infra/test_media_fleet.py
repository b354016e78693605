"""The media fleet in the synthesized template: task role, environment, signalling ingress, WebRTC networking,
draining, scaling and the SignallingUrl output; each check also fed a broken fragment."""

from __future__ import annotations

import copy
import json
from typing import Any

from chalicelib.core.settings import REQUIRED_ENVIRONMENT
from infra.cdk import checks
from infra.cdk.config import DEFAULT_ICE_SERVERS
from infra.cdk.media_fleet import HEALTH_PATH, LOAD_METRIC, LOAD_NAMESPACE, MEDIA_PORT, MEDIA_UDP_PORTS

PREFIX = "switchboard-dev-"


def _only(template: dict[str, Any], *types: str) -> dict[str, Any]:
    """A fragment of the real template: just the resources of the given types."""
    kept = {key: value for key, value in template["Resources"].items() if value["Type"] in types}
    return {"Resources": copy.deepcopy(kept)}


def _one(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    (found,) = checks.resources(template, kind)
    return found


def _container(template: dict[str, Any]) -> dict[str, Any]:
    _, task = _one(template, "AWS::ECS::TaskDefinition")
    (container,) = task["ContainerDefinitions"]
    return dict(container)


def _environment(template: dict[str, Any]) -> dict[str, Any]:
    return {entry["Name"]: entry["Value"] for entry in _container(template)["Environment"]}


def _role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    statements = []
    for _, properties in checks.resources(template, "AWS::IAM::Policy"):
        if {"Ref": role} in properties["Roles"]:
            statements += properties["PolicyDocument"]["Statement"]
    return statements


def _table_id(template: dict[str, Any], base_name: str) -> str:
    return next(
        logical
        for logical, properties in checks.resources(template, "AWS::DynamoDB::Table")
        if properties["TableName"] == PREFIX + base_name
    )


def _bucket_id(template: dict[str, Any]) -> str:
    (logical, _) = _one(template, "AWS::S3::Bucket")
    return logical


def _signalling_url(template: dict[str, Any]) -> Any:
    return template["Outputs"]["SignallingUrl"]["Value"]


# --- the task role: least privilege -----------------------------------------------------------------------------


def test_the_task_role_writes_only_the_call_and_conference_tables_and_reads_only_the_keys(template):
    task_role = _one(template, "AWS::ECS::TaskDefinition")[1]["TaskRoleArn"]["Fn::GetAtt"][0]
    statements = _role_statements(template, task_role)
    resources = [json.dumps(statement["Resource"], sort_keys=True) for statement in statements]
    bases = (
        "calls",
        "conferences",
        "dialogs",
        "event-sequences",
        "outbox",
        "media-nodes",
        "audio-files",
        "recording-files",
    )
    tables = {base: _table_id(template, base) for base in bases}
    for base, logical in tables.items():
        assert any(logical in resource for resource in resources), base
    other_tables = {
        logical for logical, _ in checks.resources(template, "AWS::DynamoDB::Table") if logical not in tables.values()
    }
    assert not any(other in resource for other in other_tables for resource in resources)
    # the outbox and the node registry are written, never read back
    for base in ("outbox", "media-nodes"):
        actions = {
            action
            for statement in statements
            if tables[base] in json.dumps(statement["Resource"])
            for action in statement["Action"]
        }
        assert "dynamodb:PutItem" in actions and not {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"} & actions
    (secret,) = [statement for statement in statements if "KeysSecret" in json.dumps(statement["Resource"])]
    assert secret["Action"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    # audio files are read (their item, then their object under the files prefix), never written
    audio_actions = {
        action
        for statement in statements
        if tables["audio-files"] in json.dumps(statement["Resource"])
        for action in statement["Action"]
    }
    assert "dynamodb:GetItem" in audio_actions and not {"dynamodb:PutItem", "dynamodb:DeleteItem"} & audio_actions
    # and recordings are stored under their own prefix
    objects = {
        json.dumps(statement["Resource"]): statement["Action"]
        for statement in statements
        if "s3:" in json.dumps(statement["Action"])
    }
    bucket = {"Fn::GetAtt": [_bucket_id(template), "Arn"]}
    assert objects == {
        json.dumps({"Fn::Join": ["", [bucket, "/*/files/*"]]}): "s3:GetObject",
        json.dumps({"Fn::Join": ["", [bucket, "/recordings/*"]]}): ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
    }
    # the one "*" resource is PutMetricData, held to the load metric's namespace
    (star,) = [statement for statement in statements if statement["Resource"] == "*"]
    assert star["Action"] == "cloudwatch:PutMetricData"
    assert star["Condition"] == {"StringEquals": {"cloudwatch:namespace": LOAD_NAMESPACE}}
    assert checks.wildcard_grants(template) == []


def test_a_task_role_granted_everything_is_caught(template):
    task_role = _one(template, "AWS::ECS::TaskDefinition")[1]["TaskRoleArn"]["Fn::GetAtt"][0]
    fragment = _only(template, "AWS::IAM::Policy")
    (policy,) = [
        r["Properties"] for r in fragment["Resources"].values() if {"Ref": task_role} in r["Properties"]["Roles"]
    ]
    metrics = next(s for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "cloudwatch:PutMetricData")
    metrics.pop("Condition")
    metrics["Action"] = "cloudwatch:*"
    assert checks.wildcard_grants(fragment) == [f"{_policy_id(fragment, task_role)} allows ['cloudwatch:*'] on *"]


def _policy_id(fragment: dict[str, Any], role: str) -> str:
    return next(k for k, r in fragment["Resources"].items() if {"Ref": role} in r["Properties"].get("Roles", []))


# --- the container ----------------------------------------------------------------------------------------------


def test_the_task_sets_every_required_variable_and_the_nodes_own(template):
    assert len(list(checks.resources(template, "AWS::ECS::TaskDefinition"))) == 1
    assert checks.environment_gaps(template, REQUIRED_ENVIRONMENT) == []
    environment = _environment(template)
    assert environment["SWITCHBOARD_TABLE_PREFIX"] == PREFIX
    assert environment["SWITCHBOARD_KEYS_SECRET_ID"] == {"Ref": "KeysSecret88F3B70F"}
    assert environment["SWITCHBOARD_BUCKET"] == {"Ref": _bucket_id(template)}
    assert environment["SWITCHBOARD_MEDIA_HOST"] == "0.0.0.0"
    assert environment["SWITCHBOARD_MEDIA_PORT"] == str(MEDIA_PORT)
    assert environment["AWS_REGION"] == environment["AWS_DEFAULT_REGION"] == "eu-west-1"
    # WHIP URLs are handed out under the signalling URL, so they come back through the (sticky) load balancer
    assert environment["SWITCHBOARD_MEDIA_PUBLIC_URL"] == _signalling_url(template)
    assert json.loads(environment["SWITCHBOARD_MEDIA_ICE_SERVERS"]) == list(DEFAULT_ICE_SERVERS)


def test_a_task_container_without_a_required_variable_is_caught(template):
    fragment = _only(template, "AWS::ECS::TaskDefinition")
    (task,) = fragment["Resources"].values()
    container = task["Properties"]["ContainerDefinitions"][0]
    container["Environment"] = [e for e in container["Environment"] if e["Name"] != "SWITCHBOARD_DEAD_LETTER_QUEUE_URL"]
    (logical,) = fragment["Resources"]
    assert checks.environment_gaps(fragment, REQUIRED_ENVIRONMENT) == [
        f"task {logical} container media lacks SWITCHBOARD_DEAD_LETTER_QUEUE_URL"
    ]


def test_the_task_health_check_is_the_images_and_draining_has_time(template):
    from infra.cdk import dockerfile

    container = _container(template)
    text = (dockerfile.PROJECT_DIR / dockerfile.DOCKERFILE).read_text()
    probe = dockerfile.healthcheck(dockerfile.instructions(text))
    assert probe is not None and container["HealthCheck"]["Command"] == ["CMD", *probe]
    assert container["StopTimeout"] == 120
    assert container["PortMappings"] == [{"ContainerPort": MEDIA_PORT, "Protocol": "tcp"}]
    assert checks.draining_gaps(template, 60) == []
    hurried = copy.deepcopy(template)
    _container_of(hurried)["StopTimeout"] = 10
    assert len(checks.draining_gaps(hurried, 60)) == 1


def _container_of(template: dict[str, Any]) -> dict[str, Any]:
    task = next(r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition")
    container: dict[str, Any] = task["Properties"]["ContainerDefinitions"][0]
    return container


# --- signalling: the load balancer ------------------------------------------------------------------------------


def test_the_target_group_checks_healthz_sticks_with_a_cookie_and_drains(template):
    assert checks.target_group_gaps(template, HEALTH_PATH) == []
    _, group = _one(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["TargetType"] == "ip" and group["Port"] == MEDIA_PORT
    assert group["HealthCheckPath"] == "/healthz" and group["Matcher"] == {"HttpCode": "200"}
    attributes = {entry["Key"]: entry["Value"] for entry in group["TargetGroupAttributes"]}
    assert attributes["stickiness.enabled"] == "true" and attributes["stickiness.type"] == "lb_cookie"
    assert int(attributes["deregistration_delay.timeout_seconds"]) == 120


def test_a_target_group_without_stickiness_or_health_path_or_draining_is_caught(template):
    fragment = copy.deepcopy(template)
    group = next(r for r in fragment["Resources"].values() if r["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup")
    group["Properties"]["HealthCheckPath"] = "/"
    group["Properties"]["TargetGroupAttributes"] = [
        {"Key": "stickiness.enabled", "Value": "false"},
        {"Key": "deregistration_delay.timeout_seconds", "Value": "0"},
    ]
    assert len(checks.target_group_gaps(fragment, HEALTH_PATH)) == 3
    assert checks.target_group_gaps({"Resources": {}}, HEALTH_PATH) == ["no target group"]


def test_without_a_certificate_signalling_is_plain_http_on_the_load_balancer(template):
    (listener,) = [p for _, p in checks.resources(template, "AWS::ElasticLoadBalancingV2::Listener")]
    assert listener["Protocol"] == "HTTP" and listener["Port"] == 80
    balancer, properties = _one(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert properties["Scheme"] == "internet-facing"
    assert _signalling_url(template) == {"Fn::Join": ["", ["http://", {"Fn::GetAtt": [balancer, "DNSName"]}]]}


# --- media: UDP straight to the tasks ---------------------------------------------------------------------------


def test_tasks_have_public_ips_and_accept_udp_media_from_anywhere(template):
    assert checks.udp_reachability_gaps(template, MEDIA_UDP_PORTS) == []
    _, service = _one(template, "AWS::ECS::Service")
    assert service["LaunchType"] == "FARGATE"
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_a_service_without_udp_ingress_or_public_ip_is_caught(template):
    closed = copy.deepcopy(template)
    for resource in closed["Resources"].values():
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            rules = resource["Properties"].get("SecurityGroupIngress", [])
            resource["Properties"]["SecurityGroupIngress"] = [r for r in rules if r.get("IpProtocol") != "udp"]
    private = copy.deepcopy(template)
    service = next(r for r in private["Resources"].values() if r["Type"] == "AWS::ECS::Service")
    service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] = "DISABLED"
    narrow = checks.udp_reachability_gaps(template, (1024, 65535))  # wider than what is open
    assert [len(checks.udp_reachability_gaps(t, MEDIA_UDP_PORTS)) for t in (closed, private)] == [1, 1]
    assert len(narrow) == 1 and "does not let UDP" in narrow[0]


def test_a_task_subnet_without_an_internet_route_is_caught(template):
    fragment = copy.deepcopy(template)
    gateways = {logical for logical, _ in checks.resources(template, "AWS::EC2::InternetGateway")}
    fragment["Resources"] = {
        key: value
        for key, value in fragment["Resources"].items()
        if not (value["Type"] == "AWS::EC2::Route" and value["Properties"].get("GatewayId", {}).get("Ref") in gateways)
    }
    gaps = checks.udp_reachability_gaps(fragment, MEDIA_UDP_PORTS)
    assert len(gaps) == 2 and all("no route to an internet gateway" in gap for gap in gaps)


# --- scaling ----------------------------------------------------------------------------------------------------


def test_scaling_tracks_the_nodes_load_and_cpu_which_never_scales_in(template):
    _, target = _one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 1)
    policies = {
        logical: p["TargetTrackingScalingPolicyConfiguration"]
        for logical, p in checks.resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    }
    (cpu,) = [p for p in policies.values() if "PredefinedMetricSpecification" in p]
    assert cpu["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert cpu["DisableScaleIn"] is True
    (load,) = [p["CustomizedMetricSpecification"] for p in policies.values() if "CustomizedMetricSpecification" in p]
    assert (load["Namespace"], load["MetricName"], load["Statistic"]) == (LOAD_NAMESPACE, LOAD_METRIC, "Average")
    assert {d["Name"]: d["Value"] for d in load["Dimensions"]} == {"service": "media", "stage": "dev"}


# --- outputs ----------------------------------------------------------------------------------------------------


def test_the_stack_outputs_the_signalling_url(template):
    output = template["Outputs"]["SignallingUrl"]
    assert "/ws" in output["Description"] and "/whip/" in output["Description"]


def _warnings(artifact: Any) -> list[str]:
    return [str(m.entry.data) for m in artifact.messages if str(m.level).endswith("WARNING")]


def test_synthesis_warns_while_no_stun_or_turn_server_is_configured(synthesized, tmp_path):
    from infra.cdk.app import build_app
    from infra.cdk.config import NO_ICE_SERVERS_WARNING

    _, artifact = synthesized  # the default context: no ICE servers
    assert NO_ICE_SERVERS_WARNING in _warnings(artifact)
    context = {"stage": "dev", "region": "eu-west-1", "iceServers": '[{"urls": "stun:stun.example.com:3478"}]'}
    app, stack = build_app(context=context, outdir=str(tmp_path))
    configured = app.synth().get_stack_by_name(stack.stack_name)
    assert NO_ICE_SERVERS_WARNING not in _warnings(configured)
