"""The transport against raw servers: every answer framing, closed connections, what SigV4 signs."""

from __future__ import annotations

import hashlib
import time

import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.session import Session
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


def test_a_reused_connection_the_server_closed_is_retried_once_on_a_new_one(
    scripted: Scripted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race urllib3's own check cannot see: the server closes as the request goes out."""
    monkeypatch.setattr(urllib3.connectionpool, "is_connection_dropped", lambda connection: False)
    server = scripted(
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1",
            None,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2",
        ]
    )
    transport = Transport(server.url)
    assert transport.request("GET", "/").body == b"1"
    time.sleep(0.05)  # the server has closed the idle connection
    assert transport.request("POST", "/_bulk", b"{}\n").body == b"2"
    assert server.connections == 2


@pytest.mark.parametrize(("auth", "service"), [("sigv4", "es"), ("sigv4-aoss", "aoss")])
def test_the_signature_covers_what_is_sent(scripted: Scripted, auth: str, service: str) -> None:
    """Recompute the SigV4 signature from the request as it arrived: the signed headers went out as signed."""
    server = scripted([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"])
    body = b'{"index":{}}\n{}\n'
    assert Transport(server.url + "/prefix", auth, "eu-west-1").request("POST", "/_bulk", body).status == 200
    head, _, sent_body = server.requests[0].partition(b"\r\n\r\n")
    request_line, *lines = head.decode().split("\r\n")
    assert request_line == "POST /prefix/_bulk HTTP/1.1" and sent_body == body
    headers = dict(line.split(": ", 1) for line in lines)
    authorization = headers["Authorization"]
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-content-sha256", "x-amz-date"} <= set(signed)
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    by_name = {name.lower(): value for name, value in headers.items()}
    request = AWSRequest(
        method="POST", url=server.url + "/prefix/_bulk", data=body, headers={n: by_name[n] for n in signed}
    )
    request.context["timestamp"] = by_name["x-amz-date"]
    credentials = Session().get_credentials()
    assert credentials is not None
    signer = SigV4Auth(credentials.get_frozen_credentials(), service, "eu-west-1")
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    assert authorization.endswith(f"Signature={expected}")
