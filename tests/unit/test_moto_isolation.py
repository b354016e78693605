"""The embedded AWS serialises moto's DynamoDB item operations (moto undoes a failed transaction by restoring whole
tables, erasing concurrent commits). This fails loudly if moto renames what is wrapped."""

from __future__ import annotations

from moto.dynamodb.models import DynamoDBBackend

from infra.local.aws import ISOLATED_OPERATIONS, isolate_dynamodb_transactions


def test_every_isolated_operation_exists_and_is_wrapped_once():
    isolate_dynamodb_transactions()
    isolate_dynamodb_transactions()  # idempotent
    for name in ISOLATED_OPERATIONS:
        operation = getattr(DynamoDBBackend, name)
        assert getattr(operation, "_switchboard_isolated", False), name
        inner = operation.__kwdefaults__["__operation"]
        assert not getattr(inner, "_switchboard_isolated", False), f"{name} wrapped twice"


def test_a_failed_transaction_leaves_the_stream_a_reader_follows_live_and_without_its_records(embedded_aws):
    import uuid

    import boto3

    table = f"outbox-{uuid.uuid4().hex[:8]}"
    if True:
        db = boto3.client("dynamodb", endpoint_url=embedded_aws)
        streams = boto3.client("dynamodbstreams", endpoint_url=embedded_aws)
        db.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        arn = db.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        iterator = iterator["ShardIterator"]
        db.put_item(TableName=table, Item={"k": {"S": "first"}})
        failing = [
            {"Put": {"TableName": table, "Item": {"k": {"S": "never"}}}},
            {
                "Put": {
                    "TableName": table,
                    "Item": {"k": {"S": "first"}},
                    "ConditionExpression": "attribute_not_exists(k)",
                }
            },
        ]
        try:
            db.transact_write_items(TransactItems=failing)
        except db.exceptions.TransactionCanceledException:
            pass
        else:
            raise AssertionError("the transaction should have been cancelled")
        db.put_item(TableName=table, Item={"k": {"S": "second"}})
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["dynamodb"]["NewImage"]["k"]["S"] for r in records] == ["first", "second"]
