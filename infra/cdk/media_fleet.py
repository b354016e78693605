"""The media fleet: aiortc media nodes (`media-fargate/`) as an ECS Fargate service behind an Application Load Balancer.

Decisions, and why:

- **Signalling through the load balancer, with sticky sessions.** Clients open the signalling websocket
  (`GET /ws`) at the ALB's URL, and the node hands out WHIP URLs under its public URL, which is that same ALB URL
  (`SWITCHBOARD_MEDIA_PUBLIC_URL`). A WHIP `POST /whip/{legId}` is only known to the node that holds the call, so
  the target group uses the ALB's duration-based cookie (`AWSALB`): a client that keeps its cookies (a browser; the
  Python SDK's one `aiohttp.ClientSession`) reaches the node of its websocket again. Per-node URLs would avoid the
  cookie but need a certificate and a DNS name per task.
- **Media over UDP straight to the task.** Tasks run in public subnets with public IPs, and their security group
  lets UDP in on the kernel's ephemeral port range, which is where aioice binds every ICE candidate (port 0). A task's
  interface only knows its private address; its public address is the Internet Gateway's static 1:1 NAT of it,
  which the node learns from the STUN server in `SWITCHBOARD_MEDIA_ICE_SERVERS` (context `iceServers`, or a
  secret named by `iceServersSecretArn` when TURN credentials are in it). Clients behind restrictive firewalls need
  a TURN server in that list. An NLB would add nothing: ICE needs each node's own address, not a shared one.
- **Draining.** On scale-in or deployment ECS first deregisters the task, and the target group keeps its open
  connections for `mediaDrainSeconds` (calls in progress continue); then SIGTERM makes the node refuse new sessions
  and end its calls with their events, within the container's stop timeout.
- **Scaling.** Target tracking on the node's own load (namespace `Switchboard`, metric `MediaNodeLoad`, dimensions
  `service=media`, `stage=<stage>`: percent of a node's capacity in use, averaged) and on CPU (one Python process
  is one core). CPU only scales out; scale-in follows the load metric alone, because scaling in ends the calls of
  the task that goes. The task count stays within `mediaMinTasks`..`mediaMaxTasks` (1..1 by default: presence is per
  node today, so two identities on different nodes cannot call each other yet).
"""

from __future__ import annotations

import json

from aws_cdk import Annotations, Duration, Fn, IgnoreMode, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.cdk import dockerfile
from infra.cdk.access import MEDIA_NODE, grant
from infra.cdk.config import NO_ICE_SERVERS_WARNING, DeploymentConfig
from infra.cdk.keys import KeysSecret
from infra.cdk.messaging import Queues
from infra.cdk.storage import Tables

CONTAINER = "media"
MEDIA_PORT = 8100
HEALTH_PATH = "/healthz"
ICE_SERVERS_SETTING = "SWITCHBOARD_MEDIA_ICE_SERVERS"
# aioice binds every host candidate with port 0, so the kernel picks it from net.ipv4.ip_local_port_range, whose
# Linux default (unchanged on Fargate) is 32768-60999. Only the node's own sockets listen there.
MEDIA_UDP_PORTS = (32768, 60999)
STOP_TIMEOUT = Duration.seconds(120)  # Fargate's maximum: the node ends each call, with its events, before exiting
TASK_CPU, TASK_MEMORY_MIB = 1024, 2048  # one vCPU: one Python process is one core
LOAD_NAMESPACE, LOAD_METRIC = "Switchboard", "MediaNodeLoad"
LOAD_TARGET_PERCENT = 70
CPU_TARGET_PERCENT = 60


class MediaFleet(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        platform_environment: dict[str, str],
        tables: Tables,
        queues: Queues,
        keys: KeysSecret,
        bucket: s3.IBucket,
    ):
        super().__init__(scope, id)
        if not config.media.ice_servers and not config.media.ice_servers_secret_arn:
            Annotations.of(self).add_warning(NO_ICE_SERVERS_WARNING)
        self.config = config
        media = config.media
        self.vpc = ec2.Vpc(
            self,
            "Network",
            max_azs=2,  # the load balancer needs two zones
            nat_gateways=0,  # tasks have public IPs: no NAT, and media never takes a second hop
            subnet_configuration=[ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)],
        )
        # Rejected flows only: what answers "why does media not arrive" (a blocked port, a wrong address), at a
        # fraction of the volume every accepted UDP flow would log.
        self.vpc.add_flow_log(
            "Rejected",
            traffic_type=ec2.FlowLogTrafficType.REJECT,
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self._log_group("FlowLogs")),
        )
        # Call records, events and the audio files nodes play stay on AWS's network, and cost no data transfer.
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.load_balancer = self._load_balancer()
        if media.domain:
            self.url = f"https://{media.domain.name}"
        else:
            self.url = Fn.join("", ["http://", self.load_balancer.load_balancer_dns_name])

        self.task_role = iam.Role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"Switchboard {config.stage} media node: only what access.MEDIA_NODE grants it",
        )
        grant(MEDIA_NODE, self.task_role, tables, queues, keys, bucket)
        # PutMetricData has no resource-level permissions; the condition pins it to the platform's own namespace.
        self.task_role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": LOAD_NAMESPACE}},
            )
        )
        self.task_definition = self._task_definition(platform_environment)

        self.security_group = ec2.SecurityGroup(
            self, "Tasks", vpc=self.vpc, description="Switchboard media nodes: signalling from the ALB, media over UDP"
        )
        self.security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.udp_range(*MEDIA_UDP_PORTS),
            "WebRTC media (ICE, DTLS, SRTP) from clients anywhere, to the ports aioice binds",
        )
        self.cluster = ecs.Cluster(self, "Cluster", vpc=self.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=media.min_tasks,
            assign_public_ip=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_groups=[self.security_group],
            min_healthy_percent=100,  # a deployment starts the new node before draining the old one
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            health_check_grace_period=Duration.seconds(60),
        )
        self.target_group = self._target_group()
        self._scaling()
        if media.domain and media.domain.hosted_zone_id:
            route53.CfnRecordSet(
                self,
                "Alias",
                hosted_zone_id=media.domain.hosted_zone_id,
                name=media.domain.name,
                type="A",
                alias_target=route53.CfnRecordSet.AliasTargetProperty(
                    dns_name=self.load_balancer.load_balancer_dns_name,
                    hosted_zone_id=self.load_balancer.load_balancer_canonical_hosted_zone_id,
                ),
            )

    def _load_balancer(self) -> elbv2.ApplicationLoadBalancer:
        balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            drop_invalid_header_fields=True,
            # The node pings every websocket each 20 s; two minutes of silence is a dead client.
            idle_timeout=Duration.seconds(120),
        )
        return balancer

    def _log_group(self, id: str) -> logs.LogGroup:
        log_group = logs.LogGroup(self, id, removal_policy=RemovalPolicy.DESTROY)
        resource = log_group.node.default_child
        assert isinstance(resource, logs.CfnLogGroup)
        resource.retention_in_days = self.config.log_retention_days
        return log_group

    def _environment(self, platform_environment: dict[str, str]) -> dict[str, str]:
        environment = {
            **platform_environment,
            # botocore (under pynamodb) reads AWS_DEFAULT_REGION, the settings model AWS_REGION: set both, whatever
            # the platform version injects
            "AWS_REGION": Stack.of(self).region,
            "AWS_DEFAULT_REGION": Stack.of(self).region,
            "SWITCHBOARD_MEDIA_HOST": "0.0.0.0",  # noqa: S104 - inside the task's own network namespace
            "SWITCHBOARD_MEDIA_PORT": str(MEDIA_PORT),
            "SWITCHBOARD_MEDIA_PUBLIC_URL": self.url,
        }
        if not self.config.media.ice_servers_secret_arn:
            environment[ICE_SERVERS_SETTING] = json.dumps(list(self.config.media.ice_servers), separators=(",", ":"))
        return environment

    def _task_definition(self, platform_environment: dict[str, str]) -> ecs.FargateTaskDefinition:
        task = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=TASK_CPU,
            memory_limit_mib=TASK_MEMORY_MIB,
            task_role=self.task_role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64, operating_system_family=ecs.OperatingSystemFamily.LINUX
            ),
        )
        log_group = self._log_group("Logs")
        secrets = {}
        if self.config.media.ice_servers_secret_arn:
            secret = secretsmanager.Secret.from_secret_complete_arn(
                self, "IceServers", self.config.media.ice_servers_secret_arn
            )
            secrets[ICE_SERVERS_SETTING] = ecs.Secret.from_secrets_manager(secret)
        text = (dockerfile.PROJECT_DIR / dockerfile.DOCKERFILE).read_text()
        probe = dockerfile.healthcheck(dockerfile.instructions(text))
        assert probe is not None, "the Dockerfile's HEALTHCHECK is the task's health check"
        task.add_container(
            CONTAINER,
            image=ecs.ContainerImage.from_asset(
                str(dockerfile.PROJECT_DIR),
                file=dockerfile.DOCKERFILE,
                # the Dockerfile's own ignore file, so the staged asset is the build context docker would see
                exclude=dockerfile.ignore_patterns(dockerfile.PROJECT_DIR / dockerfile.DOCKERFILE),
                ignore_mode=IgnoreMode.DOCKER,
                platform=ecr_assets.Platform.LINUX_AMD64,
            ),
            environment=self._environment(platform_environment),
            secrets=secrets or None,
            port_mappings=[ecs.PortMapping(container_port=MEDIA_PORT, protocol=ecs.Protocol.TCP)],
            logging=ecs.LogDrivers.aws_logs(stream_prefix="media", log_group=log_group),
            # ECS ignores an image's HEALTHCHECK: the same probe, declared for the task.
            health_check=ecs.HealthCheck(
                command=["CMD", *probe],
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(20),
            ),
            stop_timeout=STOP_TIMEOUT,
        )
        return task

    def _target_group(self) -> elbv2.ApplicationTargetGroup:
        group = elbv2.ApplicationTargetGroup(
            self,
            "Nodes",
            vpc=self.vpc,
            port=MEDIA_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            health_check=elbv2.HealthCheck(
                path=HEALTH_PATH,
                healthy_http_codes="200",  # a draining node answers 503 and takes no new sessions
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
            # Sticky: a client's WHIP POST must reach the node that holds its websocket and its call.
            stickiness_cookie_duration=Duration.days(1),
            deregistration_delay=Duration.seconds(self.config.media.drain_seconds),
            targets=[self.service.load_balancer_target(container_name=CONTAINER, container_port=MEDIA_PORT)],
        )
        domain = self.config.media.domain
        if domain:
            self.load_balancer.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[elbv2.ListenerCertificate.from_arn(domain.certificate_arn)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                default_target_groups=[group],
            )
            self.load_balancer.add_redirect(source_port=80, target_port=443)
        else:
            self.load_balancer.add_listener(
                "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, default_target_groups=[group]
            )
        return group

    def _scaling(self) -> None:
        media = self.config.media
        scaling = self.service.auto_scale_task_count(min_capacity=media.min_tasks, max_capacity=media.max_tasks)
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=CPU_TARGET_PERCENT,
            disable_scale_in=True,  # scaling in ends calls: only the node's own load may decide it
            scale_out_cooldown=Duration.seconds(60),
        )
        scaling.scale_to_track_custom_metric(
            "Load",
            metric=self.load_metric(),
            target_value=LOAD_TARGET_PERCENT,
            scale_out_cooldown=Duration.seconds(60),
            scale_in_cooldown=Duration.minutes(10),
        )

    def load_metric(self) -> cloudwatch.Metric:
        """What each node is to publish every minute: the percent of its capacity in use."""
        return cloudwatch.Metric(
            namespace=LOAD_NAMESPACE,
            metric_name=LOAD_METRIC,
            dimensions_map={"service": "media", "stage": self.config.stage},
            statistic=cloudwatch.Stats.AVERAGE,
            period=Duration.minutes(1),
        )
