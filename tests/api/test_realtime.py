"""AppSync's real-time protocol on the local endpoint, driven frame by frame (devstack/appsync/realtime.py).

The endpoint runs in-process over TLS with a short keep-alive and small per-connection queues, and with
the project's schema plus `fixtures/realtime_schema_extra.graphql` (test-only fields an auth mode may not
use). Mutations go over HTTPS from a thread, as another client's would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import shutil
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
import requests
from graphql import DocumentNode, GraphQLSchema, print_ast
from realtime_client import Raw, Target, open_raw

from devstack.appsync import realtime, subscriptions
from devstack.appsync.app import Endpoint, EndpointConfig, start_endpoint
from devstack.appsync.auth import API_KEY as API_KEY_MODE
from devstack.appsync.auth import USER_POOL, AuthConfig, Caller, issue_token, local_sub
from devstack.appsync.publish import Publication
from devstack.appsync.realtime import CONNECTION_TIMEOUT_MS, RealtimeConfig
from devstack.appsync.tls import LocalTLS
from devstack.resources import create_resources
from devstack.servers import ChildServer
from stackclient.stack import LOCAL_AWS_ENV

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
API_KEY = "realtime-test-key"
SECRET = "realtime-test-token-secret-32-bytes!!"
KEEPALIVE_S = 0.3
QUEUE_FRAMES = 64  # above the 25 frames one request below publishes at once

ON_CHANGED = "subscription($id: ID) { onListingChanged(id: $id) { id title owner } }"
CREATE = "mutation($input: CreateListingInput!) { createListing(input: $input) { id title owner } }"


def listing_input(listing_id: str | None = None, **extra: Any) -> dict[str, Any]:
    spec = {
        "title": "Realtime flat",
        "category": "ROOM",
        "price": 10,
        "currency": "EUR",
        "location": {"lat": 1, "lon": 1},
        "city": "Town",
        **extra,
    }
    return {**spec, "id": listing_id} if listing_id else spec


@pytest.fixture(scope="module")
def endpoint(
    moto_server: ChildServer,
    api_osmem: ChildServer,
    api_tls: LocalTLS,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Endpoint]:
    schema_dir = tmp_path_factory.mktemp("schema")
    for sdl in [*(REPO / "schema").glob("*.graphql"), FIXTURES / "realtime_schema_extra.graphql"]:
        shutil.copy(sdl, schema_dir / sdl.name)
    table = f"realtime-{uuid.uuid4().hex[:8]}"
    create_resources(moto_server.url, table_name=table)
    iam = {LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"]: LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"]}
    config = EndpointConfig(
        moto_server.url,
        api_osmem.url,
        table,
        AuthConfig(token_secret=SECRET, api_key=API_KEY, iam_credentials=iam),
        schema_dir=schema_dir,
        tls_cert=api_tls.cert_file,
        tls_key=api_tls.key_file,
        realtime=RealtimeConfig(keepalive_s=KEEPALIVE_S, queue_frames=QUEUE_FRAMES, init_timeout_s=2.0),
    )
    running = start_endpoint(config)
    yield running
    running.close()


@pytest.fixture(scope="module")
def target(endpoint: Endpoint, api_tls: LocalTLS) -> Target:
    assert endpoint.url.startswith("https://")
    return Target(endpoint.url, api_tls.ca_file, API_KEY, SECRET)


def mutate(target: Target, query: str, variables: dict[str, Any], user: str = "alice") -> dict[str, Any]:
    """One mutation over HTTPS as a user; returns the response body."""
    response = requests.post(
        target.graphql_url,
        json={"query": query, "variables": variables},
        headers={"Authorization": issue_token(user, SECRET)},
        verify=str(target.ca_file),
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    return body


async def amutate(
    target: Target, query: str, variables: dict[str, Any], user: str = "alice"
) -> dict[str, Any]:
    return await asyncio.to_thread(mutate, target, query, variables, user)


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 60))


# -- connection ---------------------------------------------------------------------------------------


def test_ack_carries_the_connection_timeout_and_ka_arrives_every_interval(target: Target) -> None:
    async def scenario() -> list[float]:
        raw = await open_raw(target, target.api_key_header())
        ack = await raw.init()
        assert ack == {"type": "connection_ack", "payload": {"connectionTimeoutMs": CONNECTION_TIMEOUT_MS}}
        await raw.nothing_for(KEEPALIVE_S * 4 + 0.1)  # only ka meanwhile
        await raw.ws.close()
        return raw.kas

    kas = run(scenario())
    assert len(kas) >= 3, kas
    gaps = [later - earlier for earlier, later in itertools.pairwise(kas)]
    assert all(KEEPALIVE_S * 0.5 < gap < KEEPALIVE_S * 2.5 for gap in gaps), gaps


@pytest.mark.parametrize("via", ["subprotocol", "query"])
def test_bad_connect_credentials_get_connection_error_then_close(target: Target, via: str) -> None:
    async def scenario(header: dict[str, str] | None) -> dict[str, Any]:
        raw = await open_raw(target, header, via=via)
        await raw.send({"type": "connection_init"})
        message = await raw.recv()
        await asyncio.wait_for(raw.ws.wait_closed(), 5)
        return message

    tampered = target.iam_header("{}", connect=True)
    tampered["x-amz-date"] = tampered["X-Amz-Date"] = "20200101T000000Z"
    for header in (
        target.api_key_header("not-the-key"),
        target.user_header("eve", secret="another-secret-" * 3),
        tampered,
        None,
    ):
        if header is None and via == "query":
            continue
        message = run(scenario(header))
        assert message["type"] == "connection_error", (header, message)
        [error] = message["payload"]["errors"]
        assert error["errorType"] in {"UnauthorizedException", "InvalidSignatureException"}, error
        assert error["errorCode"] == 401


def test_a_handshake_without_the_graphql_ws_subprotocol_is_refused(target: Target) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    async def scenario() -> None:
        with pytest.raises(InvalidStatus):
            await connect(target.realtime_url, ssl=target.ssl_context())

    run(scenario())


# -- subscriptions in each auth mode --------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["api_key", "user", "iam"])
def test_each_auth_mode_subscribes_and_receives_what_the_mutation_selected(target: Target, mode: str) -> None:
    listing_id = f"rt-{mode}-{uuid.uuid4().hex[:8]}"

    def auth(body: str, connect: bool) -> dict[str, str]:
        if mode == "api_key":
            return target.api_key_header()
        if mode == "user":
            return target.user_header("bob")
        return target.iam_header(body, connect=connect)

    async def scenario() -> dict[str, Any]:
        raw = await open_raw(target, auth("{}", True), via="query" if mode == "iam" else "subprotocol")
        await raw.init()
        data = json.dumps({"query": ON_CHANGED, "variables": {"id": listing_id}})
        await raw.start("s1", ON_CHANGED, auth(data, False), data=data)
        assert await raw.expect("start_ack") == {"type": "start_ack", "id": "s1"}
        created = await amutate(target, CREATE, {"input": listing_input(listing_id)})
        assert created["data"]["createListing"]["id"] == listing_id, created
        message = await raw.expect("data")
        await raw.ws.close()
        return message

    message = run(scenario())
    assert message["id"] == "s1"
    listing = message["payload"]["data"]["onListingChanged"]
    assert listing["id"] == listing_id and listing["title"] == "Realtime flat" and listing["owner"]
    assert "errors" not in message["payload"]


def test_fields_the_mutation_did_not_select_arrive_null_and_a_missing_non_null_one_is_an_error(
    target: Target,
) -> None:
    listing_id = f"rt-sel-{uuid.uuid4().hex[:8]}"
    nullable = "subscription($id: ID) { onListingChanged(id: $id) { id description } }"
    non_null = "subscription($id: ID) { onListingChanged(id: $id) { id price } }"

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        raw = await open_raw(target, target.api_key_header())
        await raw.init()
        await raw.subscribe("nullable", nullable, target.api_key_header(), id=listing_id)
        await raw.subscribe("non-null", non_null, target.api_key_header(), id=listing_id)
        # The mutation selects id and title only, though the stored listing has a description and price.
        await amutate(target, CREATE, {"input": listing_input(listing_id, description="A bright room")})
        got = {m["id"]: m for m in [await raw.expect("data"), await raw.expect("data")]}
        await raw.ws.close()
        return got["nullable"], got["non-null"]

    first, second = run(scenario())
    assert first["payload"] == {"data": {"onListingChanged": {"id": listing_id, "description": None}}}
    assert second["payload"]["data"] == {"onListingChanged": None}
    [error] = second["payload"]["errors"]
    assert "price" in error["message"] and error["path"] == ["onListingChanged", "price"]


def test_arguments_filter_and_a_null_argument_matches_all(target: Target) -> None:
    first, second = f"rt-a-{uuid.uuid4().hex[:8]}", f"rt-b-{uuid.uuid4().hex[:8]}"

    async def scenario() -> dict[str, list[str]]:
        raw = await open_raw(target, target.user_header("carol"))
        await raw.init()
        await raw.subscribe("first", ON_CHANGED, target.user_header("carol"), id=first)
        await raw.subscribe("second", ON_CHANGED, target.user_header("carol"), id=second)
        await raw.subscribe("all", ON_CHANGED, target.user_header("carol"))
        await amutate(target, CREATE, {"input": listing_input(first)})
        await amutate(target, CREATE, {"input": listing_input(second)})
        seen: dict[str, list[str]] = {}
        for _ in range(4):
            message = await raw.expect("data")
            seen.setdefault(message["id"], []).append(message["payload"]["data"]["onListingChanged"]["id"])
        await raw.nothing_for(0.3)
        await raw.ws.close()
        return seen

    seen = run(scenario())
    assert seen["first"] == [first]
    assert seen["second"] == [second]
    assert [i for i in seen["all"] if i in {first, second}] == [first, second]


# -- errors ----------------------------------------------------------------------------------------------


def test_an_unauthorised_start_gets_a_typed_error_and_the_socket_stays_open(target: Target) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        raw = await open_raw(target, target.api_key_header())
        await raw.init()
        await raw.start("bad-key", ON_CHANGED, target.api_key_header("wrong"))
        wrong_key = await raw.expect("error")
        await raw.start("no-auth", ON_CHANGED, None)
        no_auth = await raw.expect("error")
        data = json.dumps({"query": ON_CHANGED, "variables": {}})
        signed_other = target.iam_header(data.replace("{}", '{"id": "x"}'), connect=False)
        await raw.start("bad-sig", ON_CHANGED, signed_other, data=data)
        bad_signature = await raw.expect("error")
        await raw.subscribe("fine", ON_CHANGED, target.api_key_header())  # still open and serving
        await raw.ws.close()
        return wrong_key, no_auth, bad_signature

    wrong_key, no_auth, bad_signature = run(scenario())
    assert wrong_key["id"] == "bad-key"
    assert wrong_key["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
    assert (
        no_auth["id"] == "no-auth" and no_auth["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
    )
    assert bad_signature["payload"]["errors"][0]["errorType"] == "InvalidSignatureException"


def test_a_subscription_field_the_auth_mode_may_not_use_is_refused_at_start(target: Target) -> None:
    iam_only = "subscription { onListingChangedIamOnly { id } }"

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        raw = await open_raw(target, target.api_key_header())
        await raw.init()
        await raw.start("key", iam_only, target.api_key_header())
        refused = await raw.expect("error")
        data = json.dumps({"query": iam_only, "variables": {}})
        await raw.start("iam", iam_only, target.iam_header(data, connect=False), data=data)
        accepted = await raw.recv()
        await raw.ws.close()
        return refused, accepted

    refused, accepted = run(scenario())
    [error] = refused["payload"]["errors"]
    assert refused["id"] == "key" and error["errorType"] == "Unauthorized"
    assert error["message"] == "Not Authorized to access onListingChangedIamOnly on type Subscription"
    assert accepted == {"type": "start_ack", "id": "iam"}


def test_a_payload_field_the_auth_mode_may_not_read_arrives_null_with_an_error(target: Target) -> None:
    listing_id = f"rt-note-{uuid.uuid4().hex[:8]}"
    query = "subscription($id: ID) { onListingChanged(id: $id) { id internalNote } }"

    async def scenario() -> dict[str, Any]:
        raw = await open_raw(target, target.api_key_header())
        await raw.init()
        await raw.subscribe("k", query, target.api_key_header(), id=listing_id)
        await amutate(target, CREATE, {"input": listing_input(listing_id)})
        message = await raw.expect("data")
        await raw.ws.close()
        return message

    message = run(scenario())
    assert message["payload"]["data"] == {"onListingChanged": {"id": listing_id, "internalNote": None}}
    [error] = message["payload"]["errors"]
    assert error["errorType"] == "Unauthorized"
    assert error["message"] == "Not Authorized to access internalNote on type Listing"


def test_malformed_json_unknown_types_and_non_subscriptions_get_errors_and_nothing_closes(
    target: Target,
) -> None:
    async def scenario() -> list[dict[str, Any]]:
        raw = await open_raw(target, target.api_key_header())
        await raw.send("{not json")
        malformed = await raw.expect("error")
        await raw.send({"type": "subscribe", "id": "x"})
        unknown = await raw.expect("error")
        await raw.start("q", "{ __typename }", target.api_key_header())
        query = await raw.expect("error")
        await raw.start("broken", "subscription { onListingChanged { nope } }", target.api_key_header())
        invalid = await raw.expect("error")
        await raw.init()  # the connection still works
        await raw.ws.close()
        return [malformed, unknown, query, invalid]

    malformed, unknown, query, invalid = run(scenario())
    assert "id" not in malformed and malformed["payload"]["errors"][0]["errorType"] == "BadRequestException"
    assert unknown["payload"]["errors"] == [
        {"errorType": "UnsupportedOperation", "message": "unknown not supported through the realtime channel"}
    ]
    assert query["id"] == "q" and query["payload"]["errors"][0]["errorType"] == "UnsupportedOperation"
    assert invalid["id"] == "broken" and "nope" in invalid["payload"]["errors"][0]["message"]


def test_stop_completes_and_nothing_more_arrives_for_it(target: Target) -> None:
    listing_id = f"rt-stop-{uuid.uuid4().hex[:8]}"

    async def scenario() -> list[dict[str, Any]]:
        raw = await open_raw(target, target.api_key_header())
        await raw.init()
        await raw.subscribe("stopped", ON_CHANGED, target.api_key_header(), id=listing_id)
        await raw.subscribe("kept", ON_CHANGED, target.api_key_header(), id=listing_id)
        await raw.send({"type": "stop", "id": "stopped"})
        assert await raw.expect("complete") == {"type": "complete", "id": "stopped"}
        await amutate(target, CREATE, {"input": listing_input(listing_id)})
        got = [await raw.expect("data")]
        with contextlib.suppress(TimeoutError):
            got.append(await raw.recv(0.5))
        await raw.ws.close()
        return got

    got = run(scenario())
    assert [message["id"] for message in got] == ["kept"]


# -- load and slow subscribers ---------------------------------------------------------------------------


def test_a_hundred_concurrent_subscribers_each_get_the_change(target: Target) -> None:
    listing_id = f"rt-100-{uuid.uuid4().hex[:8]}"

    async def subscriber(n: int) -> Raw:
        raw = await open_raw(target, target.api_key_header())
        await raw.init()
        await raw.subscribe(f"s{n}", ON_CHANGED, target.api_key_header(), id=listing_id)
        return raw

    async def scenario() -> tuple[list[dict[str, Any]], float]:
        raws = await asyncio.gather(*(subscriber(n) for n in range(100)))
        started = time.monotonic()
        await amutate(target, CREATE, {"input": listing_input(listing_id)})
        messages = await asyncio.gather(*(raw.expect("data") for raw in raws))
        elapsed = time.monotonic() - started
        await asyncio.gather(*(raw.ws.close() for raw in raws))
        return list(messages), elapsed

    messages, elapsed = run(scenario())
    assert sorted(m["id"] for m in messages) == sorted(f"s{n}" for n in range(100))
    assert {m["payload"]["data"]["onListingChanged"]["id"] for m in messages} == {listing_id}
    assert elapsed < 10, elapsed


def test_a_mutation_is_answered_before_its_publication_reaches_the_hub(
    target: Target, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub gets the publication only once the response is on the socket: here it waits until the
    client holds the response, which it never would were the fan-out ahead of the response."""
    listing_id = f"rt-order-{uuid.uuid4().hex[:8]}"
    answered = threading.Event()
    client_had_the_answer: list[bool] = []
    publish = endpoint.hub.publish

    def publisher(publications: list[Publication]) -> None:
        client_had_the_answer.append(answered.wait(5))
        publish(publications)

    monkeypatch.setattr(endpoint.hub.graphql, "publisher", publisher)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        raw = await open_raw(target, target.api_key_header())
        await raw.init()
        await raw.subscribe("s", ON_CHANGED, target.api_key_header(), id=listing_id)
        answer = await amutate(target, CREATE, {"input": listing_input(listing_id)})
        answered.set()
        message = await raw.expect("data")
        await raw.ws.close()
        return answer, message

    answer, message = run(scenario())
    assert client_had_the_answer == [True]
    assert answer["data"]["createListing"]["id"] == listing_id
    assert message["payload"]["data"]["onListingChanged"]["id"] == listing_id


def test_subscribers_with_one_selection_set_and_auth_mode_share_one_rendering(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publication is run through each distinct (operation, variables, auth mode) once, however many
    subscribers share it and however their query text is spaced; each still gets its own frame."""
    listing_id = f"rt-group-{uuid.uuid4().hex[:8]}"
    spaced = (
        "# the same operation\nsubscription ($id: ID) {\n  onListingChanged(id: $id) { id, title  owner }\n}"
    )
    only_id = "subscription($id: ID) { onListingChanged(id: $id) { id } }"
    renders: Counter[tuple[str, str]] = Counter()
    real_render = subscriptions.render

    def counting(
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any],
        caller: Caller,
        field: str,
        payload: Any,
    ) -> dict[str, Any]:
        if variables.get("id") == listing_id:  # other tests' subscribers are not this test's business
            renders[print_ast(document), caller.mode] += 1
        return real_render(schema, document, operation_name, variables, caller, field, payload)

    monkeypatch.setattr(realtime, "render", counting)
    plan = [  # subscription id, query, auth header
        *((f"key{n}", ON_CHANGED if n % 2 else spaced, target.api_key_header()) for n in range(10)),
        *((f"user{n}", ON_CHANGED, target.user_header(f"user{n}")) for n in range(3)),
        *((f"id{n}", only_id, target.api_key_header()) for n in range(2)),
    ]

    async def subscriber(subscription_id: str, query: str, header: dict[str, str]) -> Raw:
        raw = await open_raw(target, header)
        await raw.init()
        await raw.subscribe(subscription_id, query, header, id=listing_id)
        return raw

    async def scenario() -> list[dict[str, Any]]:
        raws = await asyncio.gather(*(subscriber(*entry) for entry in plan))
        await amutate(target, CREATE, {"input": listing_input(listing_id)})
        messages = await asyncio.gather(*(raw.expect("data") for raw in raws))
        await asyncio.gather(*(raw.ws.close() for raw in raws))
        return list(messages)

    messages = run(scenario())
    assert sorted(renders.values()) == [1, 1, 1], renders
    assert {mode for _, mode in renders} == {API_KEY_MODE, USER_POOL}
    by_id = {m["id"]: m["payload"]["data"]["onListingChanged"] for m in messages}
    assert sorted(by_id) == sorted(entry[0] for entry in plan)
    full = {"id": listing_id, "title": "Realtime flat", "owner": ANY}
    assert all(by_id[f"key{n}"] == full for n in range(10))
    assert all(by_id[f"user{n}"] == full for n in range(3))
    assert all(by_id[f"id{n}"] == {"id": listing_id} for n in range(2))


def test_a_subscriber_that_stops_reading_is_dropped_and_never_holds_up_a_mutation(
    target: Target, endpoint: Endpoint
) -> None:
    """Big frames to one subscriber that reads nothing: the server's buffers fill, then its queue, and it
    is dropped. Mutations are answered while frames for it still wait in its queue (nothing waits for its
    socket), and a healthy subscriber gets everything."""
    big = "subscription { onListingChanged { id description } }"
    per_request = 25
    fields = " ".join(f"m{n}: createListing(input: $i{n}) {{ id description }}" for n in range(per_request))
    declared = ", ".join(f"$i{n}: CreateListingInput!" for n in range(per_request))
    batch = f"mutation({declared}) {{ {fields} }}"
    # Random text: were permessage-deflate ever negotiated, repeated text would shrink to nothing.
    description = secrets.token_urlsafe(3600)

    def stuck_socket() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connecting, so the window it advertises stays small: the server's buffers fill quickly.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(target.host.split(":")[1])))
        return sock

    async def scenario() -> tuple[list[int], int, int, int]:
        healthy = await open_raw(target, target.api_key_header())
        await healthy.init()
        await healthy.subscribe("healthy", big, target.api_key_header())
        # max_queue=1: the library stops reading the socket once one message waits unread.
        stuck = await open_raw(
            target, target.api_key_header(), sock=stuck_socket(), server_hostname="127.0.0.1", max_queue=1
        )
        await stuck.init()
        await stuck.subscribe("stuck", big, target.api_key_header())
        [stalled] = [s.connection for s in endpoint.hub.by_field["onListingChanged"] if s.id == "stuck"]
        dropped_before = endpoint.hub.dropped_connections
        waiting, answered, received = [], 0, 0
        for _ in range(80):
            # Frames still queued for the stalled subscriber when this mutation is sent.
            waiting.append(0 if stalled.dropped.is_set() else stalled.outbox.qsize())
            variables = {f"i{n}": listing_input(description=description) for n in range(per_request)}
            answer = await amutate(target, batch, variables)
            assert "errors" not in answer, answer["errors"][:1]
            answered += 1
            for _ in range(per_request):
                await healthy.expect("data")
                received += 1
            if endpoint.hub.dropped_connections > dropped_before:
                break
        dropped = endpoint.hub.dropped_connections - dropped_before
        await healthy.ws.close()
        stuck.ws.transport.abort()
        return waiting, answered, dropped, received

    waiting, answered, dropped, received = run(scenario())
    assert dropped == 1, f"the stuck subscriber was not dropped after {answered} requests"
    assert received == answered * per_request
    assert any(waiting), f"no mutation was answered while frames waited for the stuck subscriber: {waiting}"


def test_a_subscriber_that_drops_is_forgotten(target: Target, endpoint: Endpoint) -> None:
    async def scenario() -> tuple[int, int]:
        raw = await open_raw(target, target.api_key_header())
        await raw.init()
        await raw.subscribe("gone", ON_CHANGED, target.api_key_header())
        during = sum(len(subs) for subs in endpoint.hub.by_field.values())
        raw.ws.transport.abort()  # no close frame: the peer just vanishes
        answer = await amutate(target, CREATE, {"input": listing_input()})
        assert answer["data"]["createListing"]["id"]
        for _ in range(50):
            if sum(len(subs) for subs in endpoint.hub.by_field.values()) < during:
                break
            await asyncio.sleep(0.05)
        return during, sum(len(subs) for subs in endpoint.hub.by_field.values())

    during, after = run(scenario())
    assert after == during - 1


def test_a_publication_that_fails_never_fails_the_mutation(
    target: Target, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(publications: object) -> None:
        raise RuntimeError("the hub is broken")

    monkeypatch.setattr(endpoint.hub.graphql, "publisher", broken)
    listing_id = f"rt-broken-{uuid.uuid4().hex[:8]}"
    answer = mutate(target, CREATE, {"input": listing_input(listing_id)})
    assert answer == {"data": {"createListing": {"id": listing_id, "title": "Realtime flat", "owner": ANY}}}


# -- the projection signal (onListingProjected) ---------------------------------------------------------

ON_PROJECTED = (
    "subscription($id: ID, $owner: String) {"
    " onListingProjected(id: $id, owner: $owner) { id owner version deleted projectedAt } }"
)
PUBLISH_PROJECTED = (
    'mutation { a: publishListingProjected(input: {id: "%s", owner: "%s", version: "3", deleted: false,'
    ' projectedAt: "2026-12-05T10:00:00.000Z"}) { id owner version deleted projectedAt } }'
)


def iam_mutate(target: Target, query: str) -> dict[str, Any]:
    """One mutation over HTTPS signed with SigV4 (service appsync), as the projector sends it."""
    body = json.dumps({"query": query})
    headers = target.iam_header(body, connect=False)
    response = requests.post(
        target.graphql_url, data=body, headers=headers, verify=str(target.ca_file), timeout=30
    )
    answer: dict[str, Any] = response.json()
    return answer


def test_a_user_may_follow_only_their_own_listings_projection_signals(target: Target) -> None:
    alice = target.user_header("alice")
    alice_sub = local_sub("alice")

    async def refused(variables: dict[str, Any]) -> dict[str, Any]:
        raw = await open_raw(target, alice)
        await raw.init()
        await raw.start("p1", ON_PROJECTED, alice, variables)
        message = await raw.expect("error")
        await raw.ws.close()
        return message

    for variables in ({"owner": local_sub("bob")}, {}, {"id": "x1"}):
        message = run(refused(variables))
        assert message["id"] == "p1"
        [error] = message["payload"]["errors"]
        assert error["errorType"] == "UnauthorizedError", (variables, error)

    listing_id = f"sig-{uuid.uuid4().hex[:8]}"

    async def own() -> dict[str, Any]:
        raw = await open_raw(target, alice)
        await raw.init()
        await raw.subscribe("p2", ON_PROJECTED, alice, owner=alice_sub)
        other = iam_mutate(target, PUBLISH_PROJECTED % ("not-hers", local_sub("bob")))
        assert other["data"]["a"]["id"] == "not-hers", other
        mine = await asyncio.to_thread(iam_mutate, target, PUBLISH_PROJECTED % (listing_id, alice_sub))
        assert "errors" not in mine, mine
        message = await raw.expect("data")
        await raw.ws.close()
        return message

    message = run(own())
    assert message["payload"] == {
        "data": {
            "onListingProjected": {
                "id": listing_id,
                "owner": alice_sub,
                "version": "3",
                "deleted": False,
                "projectedAt": "2026-12-05T10:00:00.000Z",
            }
        }
    }


def test_only_iam_may_publish_or_follow_every_projection_signal(target: Target) -> None:
    denied = mutate(target, PUBLISH_PROJECTED % ("x", local_sub("alice")), {})
    [error] = denied["errors"]
    assert error["errorType"] == "Unauthorized", denied

    async def iam_follows_all() -> dict[str, Any]:
        raw = await open_raw(target, target.iam_header("{}", connect=True), via="query")
        await raw.init()
        data = json.dumps({"query": ON_PROJECTED, "variables": {}})
        await raw.start("p3", ON_PROJECTED, target.iam_header(data, connect=False), data=data)
        await raw.expect("start_ack")
        await asyncio.to_thread(iam_mutate, target, PUBLISH_PROJECTED % ("any-1", "someone"))
        message = await raw.expect("data")
        await raw.ws.close()
        return message

    assert run(iam_follows_all())["payload"]["data"]["onListingProjected"]["id"] == "any-1"

    async def api_key_refused() -> dict[str, Any]:
        raw = await open_raw(target, target.api_key_header())
        await raw.init()
        await raw.start("p4", ON_PROJECTED, target.api_key_header(), {"owner": "x"})
        message = await raw.expect("error")
        await raw.ws.close()
        return message

    [error] = run(api_key_refused())["payload"]["errors"]
    assert error["errorType"] == "Unauthorized", error
