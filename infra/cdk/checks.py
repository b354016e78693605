"""Checks over a synthesized CloudFormation template (a plain dict; no CDK import), run by `tests/infra`.

Each returns a list of problems, empty when the template is right, so a test can feed it the real template and a
broken fragment alike. They read the template as written, before the SAM transform: Chalice's functions are
`AWS::Serverless::Function`s there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from infra.resources import KeySpec, TableSpec

Template = dict[str, Any]
FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")


def resources(template: Template, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") in types:
            yield logical_id, resource.get("Properties", {})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- tables --------------------------------------------------------------------------------------------------


def _key_schema(key_schema: list[dict[str, str]], types: dict[str, str]) -> tuple[KeySpec | None, KeySpec | None]:
    keys = {
        entry["KeyType"]: KeySpec(entry["AttributeName"], types.get(entry["AttributeName"], "?"))
        for entry in key_schema
    }
    return keys.get("HASH"), keys.get("RANGE")


def table_mismatches(template: Template, specs: Iterable[TableSpec], prefix: str) -> list[str]:
    """Every spec has a table named `<prefix><base_name>` with the same keys, indexes, stream and TTL, and point-in-
    time recovery; no table exists that the models do not describe."""
    tables = {properties.get("TableName"): properties for _, properties in resources(template, "AWS::DynamoDB::Table")}
    problems = []
    expected_names = set()
    for spec in specs:
        name = f"{prefix}{spec.base_name}"
        expected_names.add(name)
        table = tables.get(name)
        if table is None:
            problems.append(f"{name}: no such table")
            continue
        problems += [f"{name}: {problem}" for problem in _table_problems(table, spec)]
    problems += [f"{name}: table not described by any model" for name in tables if name not in expected_names]
    return problems


def _table_problems(table: dict[str, Any], spec: TableSpec) -> list[str]:
    types = {
        attribute["AttributeName"]: attribute["AttributeType"] for attribute in table.get("AttributeDefinitions", [])
    }
    problems = []
    if _key_schema(table.get("KeySchema", []), types) != (spec.hash_key, spec.range_key):
        problems.append(f"keys {table.get('KeySchema')} != {spec.hash_key}, {spec.range_key}")
    indexes = {index["IndexName"]: index for index in table.get("GlobalSecondaryIndexes", [])}
    for index in spec.indexes:
        actual = indexes.pop(index.name, None)
        if actual is None:
            problems.append(f"missing index {index.name}")
        elif _key_schema(actual.get("KeySchema", []), types) != (index.hash_key, index.range_key):
            problems.append(f"index {index.name} keys {actual.get('KeySchema')} != {index.hash_key}, {index.range_key}")
        elif actual.get("Projection", {}).get("ProjectionType") != "ALL":
            problems.append(f"index {index.name} does not project all attributes")
    problems += [f"unexpected index {name}" for name in indexes]
    stream = table.get("StreamSpecification", {}).get("StreamViewType")
    if stream != spec.stream_view_type:
        problems.append(f"stream {stream} != {spec.stream_view_type}")
    ttl = table.get("TimeToLiveSpecification", {})
    actual_ttl = ttl.get("AttributeName") if ttl.get("Enabled") else None
    if actual_ttl != spec.ttl_attribute:
        problems.append(f"TTL attribute {actual_ttl} != {spec.ttl_attribute}")
    recovery = table.get("PointInTimeRecoverySpecification", {})
    if recovery.get("PointInTimeRecoveryEnabled") is not True:
        problems.append("point-in-time recovery is off")
    return problems


# --- functions and tasks -------------------------------------------------------------------------------------


def environment_gaps(template: Template, required: Iterable[str]) -> list[str]:
    """Every Lambda function (SAM or plain, with SAM Globals) and every ECS container sets each required variable."""
    required = tuple(required)
    global_variables = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    problems = []
    for logical_id, properties in resources(template, *FUNCTION_TYPES):
        variables = {**global_variables, **properties.get("Environment", {}).get("Variables", {})}
        problems += [f"function {logical_id} lacks {name}" for name in required if name not in variables]
    for logical_id, properties in resources(template, "AWS::ECS::TaskDefinition"):
        for container in properties.get("ContainerDefinitions", []):
            names = {entry["Name"] for entry in container.get("Environment", []) + container.get("Secrets", [])}
            label = f"task {logical_id} container {container.get('Name')}"
            problems += [f"{label} lacks {name}" for name in required if name not in names]
    return problems


def _function_id(function_name: Any) -> str | None:
    """The logical id a mapping's FunctionName refers to ({"Ref": id} or {"Fn::GetAtt": [id, "Arn"]})."""
    if isinstance(function_name, dict):
        if "Ref" in function_name:
            return str(function_name["Ref"])
        if "Fn::GetAtt" in function_name:
            return str(function_name["Fn::GetAtt"][0])
    return None


def batch_failure_gaps(template: Template, consumers: Iterable[str]) -> list[str]:
    """Each consumer (by logical id) has an event-source mapping, and every mapping reports batch item failures."""
    mapped = set()
    problems = []
    for logical_id, properties in resources(template, "AWS::Lambda::EventSourceMapping"):
        mapped.add(_function_id(properties.get("FunctionName")))
        if "ReportBatchItemFailures" not in properties.get("FunctionResponseTypes", []):
            problems.append(f"mapping {logical_id} lacks ReportBatchItemFailures")
    problems += [f"consumer {consumer} has no event-source mapping" for consumer in consumers if consumer not in mapped]
    return problems


def visibility_gaps(template: Template) -> list[str]:
    """Lambda refuses an SQS mapping whose function's timeout exceeds the queue's visibility timeout."""
    all_resources = template.get("Resources", {})
    problems = []
    for logical_id, properties in resources(template, "AWS::Lambda::EventSourceMapping"):
        source = properties.get("EventSourceArn")
        queue_id = source["Fn::GetAtt"][0] if isinstance(source, dict) and "Fn::GetAtt" in source else None
        queue = all_resources.get(queue_id, {})
        if queue.get("Type") != "AWS::SQS::Queue":
            continue
        function = all_resources.get(_function_id(properties.get("FunctionName")), {}).get("Properties", {})
        timeout = function.get("Timeout", 3)
        visibility = queue.get("Properties", {}).get("VisibilityTimeout", 30)
        if timeout > visibility:
            problems.append(f"mapping {logical_id}: function timeout {timeout}s > queue visibility {visibility}s")
    return problems


# --- the bucket ----------------------------------------------------------------------------------------------

_PUBLIC_ACCESS_BLOCKS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def bucket_gaps(template: Template) -> list[str]:
    """Every bucket is encrypted, blocks all public access, has no public ACL and refuses requests without TLS."""
    tls_only = set()
    for _, properties in resources(template, "AWS::S3::BucketPolicy"):
        for statement in _as_list(properties.get("PolicyDocument", {}).get("Statement", [])):
            condition = statement.get("Condition", {}).get("Bool", {})
            if statement.get("Effect") == "Deny" and str(condition.get("aws:SecureTransport")).lower() == "false":
                tls_only.add(_function_id(properties.get("Bucket")))
    problems = []
    for logical_id, properties in resources(template, "AWS::S3::Bucket"):
        rules = properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
        if not any(rule.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for rule in rules):
            problems.append(f"bucket {logical_id} is not encrypted")
        block = properties.get("PublicAccessBlockConfiguration", {})
        if not all(block.get(setting) is True for setting in _PUBLIC_ACCESS_BLOCKS):
            problems.append(f"bucket {logical_id} does not block all public access")
        if properties.get("AccessControl") not in (None, "Private", "BucketOwnerFullControl"):
            problems.append(f"bucket {logical_id} has a public ACL {properties['AccessControl']}")
        if logical_id not in tls_only:
            problems.append(f"bucket {logical_id} accepts requests without TLS")
    return problems


# --- IAM -----------------------------------------------------------------------------------------------------


def _statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, properties in resources(template, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for statement in _as_list(properties.get("PolicyDocument", {}).get("Statement", [])):
            yield logical_id, statement
    for logical_id, properties in resources(template, "AWS::IAM::Role"):
        for policy in properties.get("Policies", []):
            for statement in _as_list(policy.get("PolicyDocument", {}).get("Statement", [])):
                yield logical_id, statement
    for logical_id, properties in resources(template, "AWS::Serverless::Function"):
        for policy in _as_list(properties.get("Policies", [])):
            if isinstance(policy, dict) and "Statement" in policy:
                for statement in _as_list(policy["Statement"]):
                    yield logical_id, statement


def wildcard_grants(template: Template) -> list[str]:
    """No Allow statement grants every action (`*`, or `service:*`) on every resource (`*`)."""
    problems = []
    for logical_id, statement in _statements(template):
        if statement.get("Effect") != "Allow":
            continue
        actions = [action for action in _as_list(statement.get("Action", [])) if isinstance(action, str)]
        any_action = [action for action in actions if action == "*" or action.endswith(":*")]
        if any_action and "*" in _as_list(statement.get("Resource", [])):
            problems.append(f"{logical_id} allows {any_action} on *")
    return problems


# --- the graph -----------------------------------------------------------------------------------------------


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            yield (target[0] if isinstance(target, list) else str(target).split(".")[0])
        if "Fn::Sub" in value:
            text = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
            for part in str(text).split("${")[1:]:
                yield part.split("}")[0].split(".")[0]
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def dependency_cycles(template: Template) -> list[str]:
    """CloudFormation rejects a template whose resources depend on each other in a circle (Ref, GetAtt, Sub or
    DependsOn); cfn-lint misses it when the circle runs through SAM resources."""
    all_resources = template.get("Resources", {})
    edges = {
        logical_id: {
            target
            for target in [*_references(resource.get("Properties", {})), *_as_list(resource.get("DependsOn", []))]
            if target in all_resources and target != logical_id
        }
        for logical_id, resource in all_resources.items()
    }
    problems: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                problems.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return problems


# --- the media fleet -----------------------------------------------------------------------------------------


def _attributes(properties: dict[str, Any], key: str) -> dict[str, str]:
    return {str(entry["Key"]): str(entry["Value"]) for entry in properties.get(key, [])}


def target_group_gaps(template: Template, health_path: str) -> list[str]:
    """Every target group checks `health_path`, keeps a client on one node with the load balancer's cookie (a WHIP
    POST must reach the node that holds the client's websocket) and lets connections drain when a node goes."""
    problems = []
    groups = list(resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup"))
    if not groups:
        problems.append("no target group")
    for logical_id, properties in groups:
        if properties.get("HealthCheckPath") != health_path:
            problems.append(f"target group {logical_id} checks {properties.get('HealthCheckPath')}, not {health_path}")
        attributes = _attributes(properties, "TargetGroupAttributes")
        if attributes.get("stickiness.enabled") != "true" or attributes.get("stickiness.type") != "lb_cookie":
            problems.append(f"target group {logical_id} has no load-balancer cookie stickiness")
        if int(attributes.get("deregistration_delay.timeout_seconds", "300")) <= 0:
            problems.append(f"target group {logical_id} cuts connections off without draining")
    return problems


def draining_gaps(template: Template, minimum_stop_seconds: int) -> list[str]:
    """Every container gets at least `minimum_stop_seconds` between SIGTERM and SIGKILL (ECS's default is 30 s)."""
    problems = []
    for logical_id, properties in resources(template, "AWS::ECS::TaskDefinition"):
        for container in properties.get("ContainerDefinitions", []):
            stop = container.get("StopTimeout", 30)
            if stop < minimum_stop_seconds:
                problems.append(f"task {logical_id} container {container.get('Name')} stops within {stop}s")
    return problems


def _referenced(value: Any) -> set[str]:
    """The logical ids `value` refers to."""
    return set(_references(value))


def _udp_open_to_all(rule: dict[str, Any], ports: tuple[int, int]) -> bool:
    return (
        str(rule.get("IpProtocol")).lower() in ("udp", "17")
        and rule.get("CidrIp") == "0.0.0.0/0"
        and int(rule.get("FromPort", 65536)) <= ports[0]
        and int(rule.get("ToPort", -1)) >= ports[1]
    )


def udp_reachability_gaps(template: Template, ports: tuple[int, int]) -> list[str]:
    """Every ECS service's tasks get a public IP in a public subnet, and one of their security groups lets UDP in from
    anywhere on `ports` (where the media node's ICE candidates are bound)."""
    all_resources = template.get("Resources", {})
    open_groups = set()
    for logical_id, properties in resources(template, "AWS::EC2::SecurityGroup"):
        if any(_udp_open_to_all(rule, ports) for rule in properties.get("SecurityGroupIngress", [])):
            open_groups.add(logical_id)
    for _, properties in resources(template, "AWS::EC2::SecurityGroupIngress"):
        if _udp_open_to_all(properties, ports):
            open_groups |= _referenced(properties.get("GroupId"))
    problems = []
    services = list(resources(template, "AWS::ECS::Service"))
    if not services:
        problems.append("no ECS service")
    for logical_id, properties in services:
        network = properties.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
        if network.get("AssignPublicIp") != "ENABLED":
            problems.append(f"service {logical_id} tasks have no public IP")
        subnets = _referenced(network.get("Subnets", []))
        for subnet in subnets:
            if not _has_internet_route(all_resources, subnet):
                problems.append(f"service {logical_id} subnet {subnet} has no route to an internet gateway")
        if not _referenced(network.get("SecurityGroups", [])) & open_groups:
            problems.append(f"service {logical_id} does not let UDP {ports[0]}-{ports[1]} in from anywhere")
    return problems


def _has_internet_route(all_resources: dict[str, Any], subnet: str) -> bool:
    tables = {
        reference
        for association in all_resources.values()
        if association.get("Type") == "AWS::EC2::SubnetRouteTableAssociation"
        and subnet in _referenced(association.get("Properties", {}).get("SubnetId"))
        for reference in _references(association.get("Properties", {}).get("RouteTableId"))
    }
    for route in all_resources.values():
        properties = route.get("Properties", {})
        if route.get("Type") != "AWS::EC2::Route" or properties.get("DestinationCidrBlock") != "0.0.0.0/0":
            continue
        gateway = _referenced(properties.get("GatewayId"))
        is_internet_gateway = any(
            all_resources.get(target, {}).get("Type") == "AWS::EC2::InternetGateway" for target in gateway
        )
        if is_internet_gateway and _referenced(properties.get("RouteTableId")) & tables:
            return True
    return False
