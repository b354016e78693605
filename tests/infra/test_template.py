"""Template assertions on the synthesized stack, each paired with a broken fragment it must reject."""

from __future__ import annotations

import copy
import json
from typing import Any

from chalicelib.core.settings import REQUIRED_ENVIRONMENT
from infra.cdk import checks
from infra.cdk.control_plane import logical_id
from infra.resources import EVENT_SOURCES, TABLES

PREFIX = "switchboard-dev-"
ICE_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:turn-AbCdEf"
CONSUMERS = [logical_id(spec.function) for spec in EVENT_SOURCES]


def _scheduled() -> list[str]:
    """The `@app.schedule` functions (EventBridge rules from Chalice's package), by logical id."""
    from chalice.app import ScheduledEventConfig

    from app import app

    return [logical_id(source.name) for source in app.event_sources if isinstance(source, ScheduledEventConfig)]


def _only(template: dict[str, Any], *types: str) -> dict[str, Any]:
    """A fragment of the real template: just the resources of the given types."""
    kept = {key: value for key, value in template["Resources"].items() if value["Type"] in types}
    return {"Resources": copy.deepcopy(kept)}


def _table(fragment: dict[str, Any], base_name: str) -> dict[str, Any]:
    return next(
        resource["Properties"]
        for resource in fragment["Resources"].values()
        if resource["Properties"].get("TableName") == PREFIX + base_name
    )


# --- tables match the pynamodb models --------------------------------------------------------------------------


def test_every_table_matches_its_model(template):
    assert checks.table_mismatches(template, TABLES, PREFIX) == []
    assert len(list(checks.resources(template, "AWS::DynamoDB::Table"))) == len(TABLES)


def test_a_table_missing_an_index_is_caught(template):
    fragment = _only(template, "AWS::DynamoDB::Table")
    _table(fragment, "accounts").pop("GlobalSecondaryIndexes")
    assert checks.table_mismatches(fragment, TABLES, PREFIX) == ["switchboard-dev-accounts: missing index by-username"]


def test_a_table_with_other_keys_or_without_its_stream_ttl_or_recovery_is_caught(template):
    fragment = _only(template, "AWS::DynamoDB::Table")
    outbox = _table(fragment, "outbox")
    outbox["KeySchema"] = [{"AttributeName": "stream_key", "KeyType": "HASH"}]
    outbox.pop("StreamSpecification")
    outbox.pop("TimeToLiveSpecification")
    outbox["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": False}
    problems = checks.table_mismatches(fragment, TABLES, PREFIX)
    assert len(problems) == 4 and all(problem.startswith("switchboard-dev-outbox: ") for problem in problems)


def test_a_model_without_a_table_and_a_table_without_a_model_are_caught(template):
    fragment = _only(template, "AWS::DynamoDB::Table")
    _table(fragment, "dead-letters")["TableName"] = PREFIX + "graveyard"
    assert sorted(checks.table_mismatches(fragment, TABLES, PREFIX)) == [
        "switchboard-dev-dead-letters: no such table",
        "switchboard-dev-graveyard: table not described by any model",
    ]


# --- every function carries the settings model's required environment ------------------------------------------


def test_every_function_sets_every_required_variable(template):
    functions = list(checks.resources(template, *checks.FUNCTION_TYPES))
    assert {logical for logical, _ in functions} == {"APIHandler", *CONSUMERS, *_scheduled()}
    assert checks.environment_gaps(template, REQUIRED_ENVIRONMENT) == []


def test_a_function_missing_a_variable_is_caught(template):
    fragment = _only(template, *checks.FUNCTION_TYPES)
    fragment["Resources"]["DeliverEvents"]["Properties"]["Environment"]["Variables"].pop("SWITCHBOARD_TABLE_PREFIX")
    assert checks.environment_gaps(fragment, REQUIRED_ENVIRONMENT) == [
        "function DeliverEvents lacks SWITCHBOARD_TABLE_PREFIX"
    ]


def test_a_task_container_missing_a_variable_is_caught():
    task = {
        "Type": "AWS::ECS::TaskDefinition",
        "Properties": {
            "ContainerDefinitions": [
                {"Name": "media", "Environment": [{"Name": name, "Value": "x"} for name in REQUIRED_ENVIRONMENT[1:]]}
            ]
        },
    }
    assert checks.environment_gaps({"Resources": {"Media": task}}, REQUIRED_ENVIRONMENT) == [
        f"task Media container media lacks {REQUIRED_ENVIRONMENT[0]}"
    ]


# --- consumers report batch item failures ---------------------------------------------------------------------


def test_every_consumer_has_a_mapping_that_reports_batch_item_failures(template):
    assert checks.batch_failure_gaps(template, CONSUMERS) == []


def test_a_mapping_without_report_batch_item_failures_is_caught(template):
    fragment = _only(template, "AWS::Lambda::EventSourceMapping")
    mapping = next(
        m for m in fragment["Resources"].values() if m["Properties"]["FunctionName"] == {"Ref": "FanOutEvents"}
    )
    mapping["Properties"].pop("FunctionResponseTypes")
    assert len(checks.batch_failure_gaps(fragment, CONSUMERS)) == 1


def test_a_consumer_without_a_mapping_is_caught(template):
    fragment = _only(template, "AWS::Lambda::EventSourceMapping")
    fragment["Resources"] = {
        key: value
        for key, value in fragment["Resources"].items()
        if value["Properties"]["FunctionName"] != {"Ref": "ArchiveDeadLetters"}
    }
    assert checks.batch_failure_gaps(fragment, CONSUMERS) == ["consumer ArchiveDeadLetters has no event-source mapping"]


def test_the_stream_mapping_retries_bisects_and_records_failures(template):
    stream = next(
        properties
        for _, properties in checks.resources(template, "AWS::Lambda::EventSourceMapping")
        if properties["FunctionName"] == {"Ref": "FanOutEvents"}
    )
    assert stream["BisectBatchOnFunctionError"] is True
    assert stream["StartingPosition"] == "TRIM_HORIZON"
    assert 0 < stream["MaximumRetryAttempts"] and 0 < stream["MaximumRecordAgeInSeconds"] <= 24 * 3600
    assert "OnFailure" in stream["DestinationConfig"]


def test_queue_consumers_finish_within_the_visibility_timeout(template):
    assert checks.visibility_gaps(template) == []
    fragment = copy.deepcopy(template)
    fragment["Resources"]["DeliverEvents"]["Properties"]["Timeout"] = 900
    assert len(checks.visibility_gaps(fragment)) == 1


# --- the bucket is encrypted and private ----------------------------------------------------------------------


def test_the_bucket_is_encrypted_private_and_tls_only(template):
    assert len(list(checks.resources(template, "AWS::S3::Bucket"))) == 1
    assert checks.bucket_gaps(template) == []


def test_a_public_unencrypted_bucket_is_caught(template):
    fragment = _only(template, "AWS::S3::Bucket")  # no bucket policy: TLS is not enforced either
    (bucket,) = fragment["Resources"].values()
    bucket["Properties"].pop("BucketEncryption")
    bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] = False
    bucket["Properties"]["AccessControl"] = "PublicRead"
    assert len(checks.bucket_gaps(fragment)) == 4


# --- no IAM statement allows * on * ---------------------------------------------------------------------------


def test_no_statement_allows_every_action_on_every_resource(template):
    assert list(checks.resources(template, "AWS::IAM::Policy"))
    assert checks.wildcard_grants(template) == []


def test_a_star_on_star_statement_is_caught(template):
    fragment = _only(template, "AWS::IAM::Policy")
    policy = next(iter(fragment["Resources"].values()))["Properties"]["PolicyDocument"]
    policy["Statement"].append({"Effect": "Allow", "Action": "*", "Resource": "*"})
    policy["Statement"].append({"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": ["*"]})
    assert len(checks.wildcard_grants(fragment)) == 2


def _roles_by_principal(template: dict[str, Any]) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    for logical, properties in checks.resources(template, "AWS::IAM::Role"):
        (statement,) = properties["AssumeRolePolicyDocument"]["Statement"]
        roles.setdefault(statement["Principal"]["Service"], []).append(logical)
    return roles


def test_every_role_is_scoped_to_its_own_function(template):
    roles = _roles_by_principal(template)
    # one per function, none shared, no CDK helper roles
    assert len(roles.pop("lambda.amazonaws.com")) == 1 + len(CONSUMERS) + len(_scheduled())
    assigned = [p["Role"]["Fn::GetAtt"][0] for _, p in checks.resources(template, "AWS::Serverless::Function")]
    assert sorted(assigned) == sorted(_roles_by_principal(template)["lambda.amazonaws.com"])
    # the media fleet: its task role, ECS's execution role (image pull, logs), and the VPC flow log's
    assert {principal: len(logicals) for principal, logicals in roles.items()} == {
        "ecs-tasks.amazonaws.com": 2,
        "vpc-flow-logs.amazonaws.com": 1,
    }


# --- the media bucket: audio files through the API -------------------------------------------------------------


def _bucket(template: dict[str, Any]) -> str:
    ((logical, _),) = checks.resources(template, "AWS::S3::Bucket")
    return str(logical)


def _statements_of(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    """Every statement attached to a function's role: its default policy and any managed overflow policy."""
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for _, properties in checks.resources(template, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        if {"Ref": role} in properties.get("Roles", []):
            statements += properties["PolicyDocument"]["Statement"]
    return statements


def _object_statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    return [s for s in _statements_of(template, function) if "s3:" in json.dumps(s["Action"])]


def test_every_function_names_the_media_bucket(template):
    for _, properties in checks.resources(template, *checks.FUNCTION_TYPES):
        assert properties["Environment"]["Variables"]["SWITCHBOARD_BUCKET"] == {"Ref": _bucket(template)}


def test_the_api_puts_reads_and_deletes_only_audio_files_recordings_and_call_link_images(template):
    (objects,) = _object_statements(template, "APIHandler")
    assert objects["Action"] == ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    arn = {"Fn::GetAtt": [_bucket(template), "Arn"]}
    assert objects["Resource"] == [
        {"Fn::Join": ["", [arn, f"/{prefix}"]]} for prefix in ("*/files/*", "recordings/*", "*/call-link/images/*")
    ]
    # the consumers never touch the bucket, but for the SFTP export worker: it reads a recording, then removes it
    assert all(_object_statements(template, consumer) == [] for consumer in CONSUMERS if consumer != "ExportRecordings")
    (exported,) = _object_statements(template, "ExportRecordings")
    assert exported["Action"] == ["s3:GetObject", "s3:DeleteObject"]
    assert exported["Resource"] == {"Fn::Join": ["", [arn, "/recordings/*"]]}
    # the API reaches the new tables (audio files, calls and media-stream configurations)
    resources = json.dumps([s["Resource"] for s in _statements_of(template, "APIHandler")])
    for base in ("audio-files", "calls-configurations", "media-stream-configs"):
        logical = next(
            k for k, p in checks.resources(template, "AWS::DynamoDB::Table") if p["TableName"] == PREFIX + base
        )
        assert logical in resources, base


def _logical(template: dict[str, Any], kind: str, name_property: str, name: str) -> str:
    return next(k for k, p in checks.resources(template, kind) if p.get(name_property) == name)


def test_the_recording_export_consumers_reach_what_they_use_and_no_more(template):
    queue = _logical(template, "AWS::SQS::Queue", "QueueName", PREFIX + "recording-exports")
    files = _logical(template, "AWS::DynamoDB::Table", "TableName", PREFIX + "recording-files")
    destinations = _logical(template, "AWS::DynamoDB::Table", "TableName", PREFIX + "recording-export-destinations")
    ((secret, _),) = checks.resources(template, "AWS::SecretsManager::Secret")

    def granted(function: str) -> dict[str, set[str]]:
        """Each named resource's actions in the function's statements."""
        found: dict[str, set[str]] = {}
        for statement in _statements_of(template, function):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for logical in (queue, files, destinations, secret):
                if logical in json.dumps(statement["Resource"]):
                    found.setdefault(logical, set()).update(actions)
        return found

    trigger, exporter = granted("QueueRecordingExports"), granted("ExportRecordings")
    assert "sqs:SendMessage" in trigger[queue] and "dynamodb:UpdateItem" in trigger[files]
    assert "dynamodb:PutItem" not in trigger.get(destinations, set()) and secret not in trigger  # never decrypts
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= exporter[queue]
    assert "dynamodb:UpdateItem" in exporter[files] and "dynamodb:GetItem" in exporter[destinations]
    assert "dynamodb:PutItem" not in exporter[destinations] and "secretsmanager:GetSecretValue" in exporter[secret]
    assert all(queue not in json.dumps(_statements_of(template, other)) for other in ("APIHandler", "DeliverEvents"))


def test_each_function_waits_for_all_of_its_roles_policies(template):
    for logical, properties in checks.resources(template, *checks.FUNCTION_TYPES):
        role = properties["Role"]["Fn::GetAtt"][0]
        policies = {
            policy
            for policy, p in checks.resources(template, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
            if {"Ref": role} in p.get("Roles", [])
        }
        assert policies and policies <= set(template["Resources"][logical].get("DependsOn", [])), logical


# --- the template can be deployed at all ----------------------------------------------------------------------


def test_the_template_has_no_dependency_cycle(template):
    assert checks.dependency_cycles(template) == []


def test_a_cycle_through_the_api_is_caught(template):
    fragment = copy.deepcopy(template)
    # What Chalice's own template does: the API's integrations point at the handler's Arn, and the handler's
    # environment points at the API's URL.
    fragment["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["x-probe"] = {"Fn::Sub": "${APIHandler.Arn}"}
    assert any("APIHandler" in cycle and "RestAPI" in cycle for cycle in checks.dependency_cycles(fragment))


def test_custom_domains_become_the_public_urls_and_lint_clean(tmp_path):
    from infra.cdk.app import build_app
    from tests.infra.test_lint_and_nag import lint_errors

    context = {
        "stage": "prod",
        "region": "eu-west-1",
        "domainName": "api.example.com",
        "callLinkDomainName": "call.example.com",
        "signallingDomainName": "media.example.com",
        "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/example",
        "hostedZoneId": "Z0EXAMPLE",
        "iceServersSecretArn": ICE_SECRET,
        "mediaMinTasks": "2",
        "mediaMaxTasks": "6",
    }
    app, stack = build_app(context=context, outdir=str(tmp_path))
    template = app.synth().get_stack_by_name(stack.stack_name).template
    assert template["Outputs"]["ApiUrl"]["Value"] == "https://api.example.com"
    assert template["Outputs"]["CallLinkBaseUrl"]["Value"] == "https://call.example.com"
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["SWITCHBOARD_PUBLIC_BASE_URL"] == "https://call.example.com"
    domains = [p["DomainName"] for _, p in checks.resources(template, "AWS::ApiGateway::DomainName")]
    assert sorted(domains) == ["api.example.com", "call.example.com"]
    assert len(list(checks.resources(template, "AWS::Route53::RecordSet"))) == 3
    _assert_media_fleet_uses_its_domain_and_secret(template)
    # prod keeps its data when the stack goes
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert all(t["DeletionPolicy"] == "Retain" and t["Properties"]["DeletionProtectionEnabled"] for t in tables)
    assert lint_errors(template) == []
    assert checks.dependency_cycles(template) == []


def _assert_media_fleet_uses_its_domain_and_secret(template: dict[str, Any]) -> None:
    """With a certificate: HTTPS on 443 (80 redirects), the signalling URL on the domain; TURN from the secret."""
    assert template["Outputs"]["SignallingUrl"]["Value"] == "https://media.example.com"
    listeners = sorted(
        (p["Port"], p["Protocol"]) for _, p in checks.resources(template, "AWS::ElasticLoadBalancingV2::Listener")
    )
    assert listeners == [(80, "HTTP"), (443, "HTTPS")]
    https = next(p for _, p in checks.resources(template, "AWS::ElasticLoadBalancingV2::Listener") if p["Port"] == 443)
    assert https["Certificates"] == [{"CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/example"}]
    redirect = next(
        p for _, p in checks.resources(template, "AWS::ElasticLoadBalancingV2::Listener") if p["Port"] == 80
    )
    assert redirect["DefaultActions"][0]["RedirectConfig"]["Port"] == "443"
    (task,) = [p for _, p in checks.resources(template, "AWS::ECS::TaskDefinition")]
    (container,) = task["ContainerDefinitions"]
    variables = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert variables["SWITCHBOARD_MEDIA_PUBLIC_URL"] == "https://media.example.com"
    assert "SWITCHBOARD_MEDIA_ICE_SERVERS" not in variables
    assert container["Secrets"] == [{"Name": "SWITCHBOARD_MEDIA_ICE_SERVERS", "ValueFrom": ICE_SECRET}]
    (target,) = [p for _, p in checks.resources(template, "AWS::ApplicationAutoScaling::ScalableTarget")]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
