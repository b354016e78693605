"""DynamoDB tables, generated from `infra.resources.TABLES` (and so from the pynamodb models), and the media bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdk.config import DeploymentConfig
from infra.resources import TABLES, KeySpec, TableSpec

_ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}
_STREAM_VIEWS = {
    "NEW_IMAGE": dynamodb.StreamViewType.NEW_IMAGE,
    "OLD_IMAGE": dynamodb.StreamViewType.OLD_IMAGE,
    "NEW_AND_OLD_IMAGES": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    "KEYS_ONLY": dynamodb.StreamViewType.KEYS_ONLY,
}


def _attribute(key: KeySpec | None) -> dynamodb.Attribute | None:
    return None if key is None else dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


class Tables(Construct):
    """One on-demand table per `TableSpec`, named `<prefix><base_name>` like the settings model resolves it."""

    def __init__(self, scope: Construct, id: str, config: DeploymentConfig, specs: tuple[TableSpec, ...] = TABLES):
        super().__init__(scope, id)
        self.by_name: dict[str, dynamodb.Table] = {spec.base_name: self._table(spec, config) for spec in specs}

    def _table(self, spec: TableSpec, config: DeploymentConfig) -> dynamodb.Table:
        partition_key = _attribute(spec.hash_key)
        assert partition_key is not None
        table = dynamodb.Table(
            self,
            spec.base_name,
            table_name=config.resource_name(spec.base_name),
            partition_key=partition_key,
            sort_key=_attribute(spec.range_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            stream=_STREAM_VIEWS[spec.stream_view_type] if spec.stream_view_type else None,
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=config.retain_data,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        for index in spec.indexes:
            index_key = _attribute(index.hash_key)
            assert index_key is not None
            # The models' indexes all use AllProjection (repositories read whole items from them).
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=index_key,
                sort_key=_attribute(index.range_key),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def __getitem__(self, base_name: str) -> dynamodb.Table:
        return self.by_name[base_name]


class MediaBucket(Construct):
    """Recordings, uploaded audio, call-link images: private, encrypted, TLS only, versioned, and tidied by lifecycle
    rules (the application's own retention deletes objects; the rules bound what is left behind)."""

    def __init__(self, scope: Construct, id: str, config: DeploymentConfig):
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            # A bucket holding customers' recordings is never deleted by a stack deletion; `make destroy` says so.
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)
                ),
                s3.LifecycleRule(id="expire-old-versions", noncurrent_version_expiration=Duration.days(30)),
                s3.LifecycleRule(id="expire-temporary-objects", prefix="tmp/", expiration=Duration.days(1)),
                s3.LifecycleRule(
                    id="recordings-to-infrequent-access",
                    prefix="recordings/",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(30)
                        )
                    ],
                ),
            ],
        )
