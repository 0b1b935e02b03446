"""The transport's own HTTP/1.1 client against raw servers: every answer framing and closed connections."""

from __future__ import annotations

import pytest
from projector_testkit import Scripted

from projector.exceptions import TransportError
from projector.transport import Transport


def test_content_length_chunked_and_close_delimited_answers(scripted: Scripted) -> None:
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


def test_http_1_0_answer_closes_and_head_has_no_body(scripted: Scripted) -> None:
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


def test_stale_keep_alive_connection_is_retried_once(scripted: Scripted) -> None:
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
def test_broken_answers_are_transport_errors(scripted: Scripted, reply: bytes) -> None:
    server = scripted([reply, None])
    with pytest.raises(TransportError):
        Transport(server.url, read_timeout=5.0).request("GET", "/")


def test_a_fresh_connection_closed_without_answer_is_an_error(scripted: Scripted) -> None:
    server = scripted([None])
    with pytest.raises(TransportError, match="without answering"):
        Transport(server.url).request("GET", "/")
