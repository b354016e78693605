"""The local pump hands handlers the same shapes Lambda does; Powertools' data classes read them."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, SQSEvent

from infra.local.pump import queue_message_to_lambda, stream_record_to_lambda


def test_stream_records_convert():
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC),
            "Keys": {"stream_key": {"S": "a#c1"}, "sequence": {"N": "3"}},
            "NewImage": {"stream_key": {"S": "a#c1"}, "sequence": {"N": "3"}, "type": {"S": "CALL_STARTED"}},
            "SequenceNumber": "100",
            "SizeBytes": 10,
            "StreamViewType": "NEW_IMAGE",
        },
    }
    converted = stream_record_to_lambda(record, "arn:aws:dynamodb:us-east-1:1:table/t/stream/x", "us-east-1")
    (parsed,) = DynamoDBStreamEvent({"Records": [converted]}).records
    assert parsed.dynamodb is not None
    assert parsed.dynamodb.new_image["type"] == "CALL_STARTED"
    assert int(parsed.dynamodb.new_image["sequence"]) == 3
    assert parsed.dynamodb.approximate_creation_date_time == int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    assert str(parsed.event_source_arn).endswith("/stream/x")


def test_queue_messages_convert():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": "{}",
        "MD5OfBody": "x",
        "Attributes": {"ApproximateReceiveCount": "2", "MessageGroupId": "g", "SentTimestamp": "1"},
        "MessageAttributes": {"reason": {"StringValue": "HTTP 500", "DataType": "String"}},
    }
    (parsed,) = SQSEvent({"Records": [queue_message_to_lambda(message, "arn:q", "us-east-1")]}).records
    assert parsed.message_id == "m1" and parsed.receipt_handle == "r1"
    assert parsed.attributes.approximate_receive_count == "2"
    assert parsed.attributes.message_group_id == "g"
    reason = parsed.message_attributes["reason"]
    assert reason is not None and reason.string_value == "HTTP 500"
