"""Helpers for the projector tests: moto tables with a stream reader, search reads, a scripted server.

Items, the Lambda context and the projector's environment come from tests/support.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import boto3
from support.lambda_context import lambda_context
from support.tables import create_table

from projector import handler
from projector.transport import Transport
from stackclient.lambda_wire import lambda_record

_counter = itertools.count()


def next_id() -> int:
    return next(_counter)


class Table:
    """A moto DynamoDB table made from the shared definition, and a reader for its stream."""

    def __init__(self, endpoint: str) -> None:
        self.name = f"t{next(_counter)}-{uuid.uuid4().hex[:6]}"
        self.client = boto3.client("dynamodb", endpoint_url=endpoint)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
        self.stream_arn = create_table(self.client, self.name)
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
        return [lambda_record(record, self.stream_arn) for record in answer["Records"]]


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
        response: dict[str, Any] = handler.lambda_handler({"Records": records}, lambda_context(remaining_ms))
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
