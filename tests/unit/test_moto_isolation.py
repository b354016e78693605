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
