"""Helpers for the projector tests: moto tables with streams, sample items, search reads, a Lambda context."""

from __future__ import annotations

import base64
import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import boto3

from projector import handler
from projector.transport import Transport

_counter = itertools.count()


def next_id() -> int:
    return next(_counter)


@dataclass
class FakeContext:
    """A Lambda context with the attributes the handler and Powertools read."""

    remaining_ms: int = 60_000
    function_name: str = "projector-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:projector-test"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.remaining_ms - (time.monotonic() - self._started) * 1000))


class Table:
    """A moto DynamoDB table with NEW_AND_OLD_IMAGES and a reader for its stream."""

    def __init__(self, endpoint: str) -> None:
        self.name = f"t{next(_counter)}-{uuid.uuid4().hex[:6]}"
        self.client = boto3.client("dynamodb", endpoint_url=endpoint)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
        answer = self.client.create_table(
            TableName=self.name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.stream_arn = answer["TableDescription"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]
        self._iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def put(self, item: dict[str, Any]) -> None:
        self.client.put_item(TableName=self.name, Item=item)

    def delete(self, pk: str, sk: str) -> None:
        self.client.delete_item(TableName=self.name, Key={"pk": {"S": pk}, "sk": {"S": sk}})

    def read(self) -> list[dict[str, Any]]:
        """New stream records since the last read, in Lambda's event shape."""
        answer = self.streams.get_records(ShardIterator=self._iterator, Limit=1000)
        self._iterator = answer["NextShardIterator"]
        return [lambda_shape(record, self.stream_arn) for record in answer["Records"]]


def lambda_shape(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A boto3 ``get_records`` record as Lambda delivers it (epoch-seconds time, source ARN, region)."""
    shaped: dict[str, Any] = json.loads(json.dumps(record, default=_wire_default))
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    if created is not None:
        shaped["dynamodb"]["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    shaped["eventSourceARN"] = stream_arn
    shaped["awsRegion"] = "us-east-1"
    shaped["eventSource"] = "aws:dynamodb"
    return shaped


def _wire_default(value: Any) -> Any:
    # boto3 decodes B/BS to bytes; Lambda delivers them as base64 text.
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


def listing(
    listing_id: str, version: int, title: str = "Sunny flat", price: str = "1250.5", **extra: Any
) -> dict[str, Any]:
    """A Listing item in wire format, as the write side stores it."""
    item: dict[str, Any] = {
        "pk": {"S": f"LISTING#{listing_id}"},
        "sk": {"S": "LISTING"},
        "type": {"S": "Listing"},
        "gsi1pk": {"S": "OWNER#alice"},
        "gsi1sk": {"S": f"LISTING#2026-01-01T00:00:00.000Z#{listing_id}"},
        "id": {"S": listing_id},
        "title": {"S": title},
        "description": {"S": "Two rooms, balcony, close to the park."},
        "category": {"S": "APARTMENT"},
        "tags": {"L": [{"S": "balcony"}, {"S": "park"}]},
        "price": {"N": price},
        "currency": {"S": "EUR"},
        "location": {"M": {"lat": {"N": "52.52"}, "lon": {"N": "13.405"}}},
        "city": {"S": "Berlin"},
        "owner": {"S": "alice"},
        "status": {"S": "ACTIVE"},
        "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
        "updatedAt": {"S": "2026-01-01T00:00:00.000Z"},
        "version": {"N": str(version)},
    }
    item.update(extra)
    return item


def review(listing_id: str, review_id: str, version: int, rating: str = "4") -> dict[str, Any]:
    return {
        "pk": {"S": f"LISTING#{listing_id}"},
        "sk": {"S": f"REVIEW#{review_id}"},
        "type": {"S": "Review"},
        "id": {"S": review_id},
        "listingId": {"S": listing_id},
        "rating": {"N": rating},
        "text": {"S": "Lovely place."},
        "author": {"S": "bob"},
        "createdAt": {"S": "2026-01-02T00:00:00.000Z"},
        "version": {"N": str(version)},
    }


class Search:
    """Reads what the projector wrote (raw index or filtered read alias)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.transport = Transport(url)
        self.prefix = prefix

    def get(self, doc_id: str, index: str = "listings-v1") -> dict[str, Any] | None:
        answer = self.transport.request("GET", f"/{self.prefix}{index}/_doc/{doc_id}")
        if answer.status == 404:
            return None
        body: dict[str, Any] = json.loads(answer.body)
        return body if body.get("found") else None

    def ids(self, alias: str = "listings") -> list[str]:
        self.transport.request("POST", f"/{self.prefix}{alias}/_refresh")
        answer = self.transport.request(
            "POST",
            f"/{self.prefix}{alias}/_search",
            json.dumps({"size": 1000, "query": {"match_all": {}}}).encode(),
        )
        return sorted(hit["_id"] for hit in json.loads(answer.body)["hits"]["hits"])


@dataclass
class Env:
    """One test's isolated world: its own table, queue and indices on the shared servers."""

    table: Table
    search: Search
    queue_url: str
    sqs: Any
    prefix: str
    osmem_url: str
    moto_url: str

    def invoke(self, records: list[dict[str, Any]], remaining_ms: int = 60_000) -> dict[str, Any]:
        response: dict[str, Any] = handler.lambda_handler({"Records": records}, FakeContext(remaining_ms))
        return response

    def dead_letters(self) -> list[dict[str, Any]]:
        letters: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            messages = answer.get("Messages", [])
            if not messages:
                return letters
            for message in messages:
                letters.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


class ScriptedServer:
    """A loopback server that answers each request with the next scripted raw reply (None: close)."""

    def __init__(self, replies: list[bytes | None]) -> None:
        self.replies = replies
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.replies:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            reader = conn.makefile("rb")
            try:
                self._answer(conn, reader)
            finally:
                reader.close()  # the socket's descriptor stays open while its reader does
                conn.close()

    def _answer(self, conn: socket.socket, reader: BinaryIO) -> None:
        while self.replies:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = reader.readline()
                if not line:
                    return
                head += line
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.requests.append(head + reader.read(length))
            reply = self.replies.pop(0)
            if reply is None:
                return
            conn.sendall(reply)
            if self.replies and self.replies[0] is None:  # close right after this reply
                self.replies.pop(0)
                return
            if b"Connection: close" in reply or b"HTTP/1.0" in reply:
                return

    def close(self) -> None:
        self.listener.close()


Scripted = Callable[[list[bytes | None]], ScriptedServer]
"""The ``scripted`` fixture: start a :class:`ScriptedServer` with these replies."""
