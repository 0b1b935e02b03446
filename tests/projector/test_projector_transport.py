"""The transport's own HTTP/1.1 client against raw servers: every answer framing and closed connections."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import BinaryIO

import pytest

from projector.exceptions import TransportError
from projector.transport import Transport


class _Scripted:
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


@pytest.fixture
def scripted() -> Iterator[type[_Scripted]]:
    servers: list[_Scripted] = []

    def make(replies: list[bytes | None]) -> _Scripted:
        server = _Scripted(replies)
        servers.append(server)
        return server

    yield make  # type: ignore[misc]
    for server in servers:
        server.close()


def test_content_length_chunked_and_close_delimited_answers(scripted: type[_Scripted]) -> None:
    server = scripted(
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n4;x=1\r\ndefg\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
        ]
    )
    transport = Transport(server.url)
    assert transport.request("GET", "/a").body == b"hello"
    second = transport.request("POST", "/b", b'{"x":1}')
    assert (second.status, second.body) == (201, b"abcdefg")
    assert transport.request("GET", "/c").body == b"until the end"
    assert server.connections == 1  # keep-alive reused until the server said close
    post = server.requests[1]
    assert post.startswith(b"POST /b HTTP/1.1\r\n") and post.endswith(b'\r\n\r\n{"x":1}')
    assert b"Content-Length: 7\r\n" in post and b"Content-Type: application/json\r\n" in post


def test_http_1_0_answer_closes_and_head_has_no_body(scripted: type[_Scripted]) -> None:
    server = scripted(
        [
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        ]
    )
    transport = Transport(server.url)
    assert transport.request("GET", "/").body == b"{}"
    head = transport.request("HEAD", "/index")
    assert (head.status, head.body) == (200, b"")
    assert transport.request("GET", "/missing").status == 404
    assert server.connections == 2  # the HTTP/1.0 answer ended its connection


def test_stale_keep_alive_connection_is_retried_once(scripted: type[_Scripted]) -> None:
    server = scripted(
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1",
            None,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2",
        ]
    )
    transport = Transport(server.url)
    assert transport.request("GET", "/").body == b"1"
    assert transport.request("GET", "/").body == b"2"  # the server closed the idle connection: reconnected
    assert server.connections == 2


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ],
)
def test_broken_answers_are_transport_errors(scripted: type[_Scripted], reply: bytes) -> None:
    server = scripted([reply, None])
    with pytest.raises(TransportError):
        Transport(server.url, read_timeout=5.0).request("GET", "/")


def test_a_fresh_connection_closed_without_answer_is_an_error(scripted: type[_Scripted]) -> None:
    server = scripted([None])
    with pytest.raises(TransportError, match="without answering"):
        Transport(server.url).request("GET", "/")
