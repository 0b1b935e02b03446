"""End to end on the whole local stack: GraphQL writes → DynamoDB → stream poller → projector → search.

One stack (moto, osmem, the local AppSync endpoint, the poller as child processes) serves the module.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import signal
import ssl
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.credentials import Credentials
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from devstack.appsync.auth import local_sub
from devstack.appsync.tls import spki_sha256
from devstack.demo import SEARCH
from devstack.stack import LocalStack, StackOptions
from stackclient.errors import GraphQLError
from stackclient.graphql import GraphQLClient
from stackclient.items import listing_item, version_of
from stackclient.seed import FIXTURES_DIR, GraphQLWriter, seed
from stackclient.stack import LOCAL_AWS_ENV, graphql_credentials, stack_from_mapping

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]

LISTING = "id title city price version"
CREATE = f"mutation C($input: CreateListingInput!) {{ createListing(input: $input) {{ {LISTING} }} }}"
GET = f"query Get($id: ID!) {{ getListing(id: $id) {{ {LISTING} }} }}"
UPDATE = f"mutation U($input: UpdateListingInput!) {{ updateListing(input: $input) {{ {LISTING} }} }}"
DELETE = f"mutation D($input: DeleteListingInput!) {{ deleteListing(input: $input) {{ {LISTING} }} }}"
ADD_REVIEW = "mutation R($input: AddReviewInput!) { addReview(input: $input) { id version } }"
PAGE = """
query Page($token: String) {
  searchListings(limit: 100, nextToken: $token, sort: PRICE_ASC) { total nextToken items { id version } }
}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(StackOptions(state_dir=tmp_path_factory.mktemp("dev")))
    local.start()
    yield local
    local.stop()


@pytest.fixture(scope="module")
def iam(stack: LocalStack) -> GraphQLClient:
    # The stack's own key pair: the endpoint accepts no other (issue 15, item 7).
    keys = graphql_credentials(stack_from_mapping(stack.info, "the local stack"))
    assert keys is not None and keys.access_key != "testing"
    return GraphQLClient(
        stack.info["graphql_url"], auth="iam", ca_file=stack.info["ca_file"], credentials=keys
    )


@pytest.fixture(scope="module")
def api_key(stack: LocalStack) -> GraphQLClient:
    return GraphQLClient(
        stack.info["graphql_url"],
        auth="api_key",
        api_key=stack.info["auth"]["api_key"],
        ca_file=stack.info["ca_file"],
    )


@pytest.fixture(scope="module")
def seeded(stack: LocalStack, iam: GraphQLClient) -> list[str]:
    listings, reviews = seed(GraphQLWriter(iam), limit=25, out=io.StringIO())
    assert listings.bad == [] and reviews.bad == [] and listings.written == 25
    return [
        json.loads(line)["id"] for line in (FIXTURES_DIR / "listings.jsonl").read_text().splitlines()[:25]
    ]


def eventually(check: Callable[[], Any], timeout_s: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.05)


def search_docs(stack: LocalStack, ids: list[str], alias: str = "listings") -> dict[str, dict[str, Any]]:
    """The documents behind a read alias, by id, with their external versions."""
    body: dict[str, Any] = {"query": {"ids": {"values": ids}}, "size": len(ids), "version": True}
    answer = requests.post(f"{stack.info['search_endpoint']}/{alias}/_search", json=body, timeout=10)
    answer.raise_for_status()
    return {
        hit["_id"]: {**hit["_source"], "_version": hit["_version"]} for hit in answer.json()["hits"]["hits"]
    }


def table_listings(stack: LocalStack) -> dict[str, int]:
    """Every listing in DynamoDB: id → version."""
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.info["dynamodb_endpoint"])
    items: dict[str, int] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=stack.info["table_name"]):
        for item in page["Items"]:
            if item["sk"]["S"] == "LISTING" and "id" in item:
                items[item["id"]["S"]] = int(item["version"]["N"])
    return items


def graphql_search_ids(client: GraphQLClient) -> dict[str, str]:
    found: dict[str, str] = {}
    token = None
    while True:
        page = client.execute(PAGE, {"token": token})["searchListings"]
        found.update({item["id"]: item["version"] for item in page["items"]})
        token = page["nextToken"]
        if not token:
            return found


def test_every_seeded_item_is_searchable(
    stack: LocalStack, seeded: list[str], api_key: GraphQLClient
) -> None:
    versions = table_listings(stack)
    docs = eventually(
        lambda: (d := search_docs(stack, seeded)) and len(d) == len(seeded) and d, what="projection"
    )
    assert {doc_id: doc["_version"] for doc_id, doc in docs.items()} == {i: versions[i] for i in seeded}
    through_api = graphql_search_ids(api_key)
    assert {i: through_api[i] for i in seeded} == {i: str(versions[i]) for i in seeded}
    review_total = requests.get(f"{stack.info['search_endpoint']}/reviews/_count", timeout=10).json()["count"]
    assert review_total > 0


def test_an_update_is_reflected_with_its_new_version(
    stack: LocalStack, seeded: list[str], iam: GraphQLClient, api_key: GraphQLClient
) -> None:
    listing_id = seeded[3]
    before = iam.execute(GET, {"id": listing_id})["getListing"]
    title = f"Renamed {uuid.uuid4().hex[:6]}"
    update = {"id": listing_id, "expectedVersion": before["version"], "title": title}
    after = iam.execute(UPDATE, {"input": update})["updateListing"]
    assert int(after["version"]) > int(before["version"])

    doc = eventually(
        lambda: (
            (d := search_docs(stack, [listing_id]).get(listing_id))
            and d["_version"] == int(after["version"])
            and d
        ),
        what="the update in search",
    )
    assert doc["title"] == title and doc["version"] == int(after["version"])
    found = api_key.execute(SEARCH, {"query": title, "limit": 5})["searchListings"]["items"]
    assert [(item["id"], item["version"]) for item in found][:1] == [(listing_id, after["version"])]


def test_a_delete_disappears_from_search(stack: LocalStack, iam: GraphQLClient) -> None:
    listing = {"title": "Short-lived studio", "category": "STUDIO", "price": 700, "currency": "EUR",
               "location": {"lat": 38.71, "lon": -9.14}, "city": "Lisbon", "owner": "e2e"}  # fmt: skip
    created = iam.execute(CREATE, {"input": listing})["createListing"]
    listing_id = created["id"]
    eventually(lambda: listing_id in search_docs(stack, [listing_id]), what="the new listing in search")
    iam.execute(DELETE, {"input": {"id": listing_id, "expectedVersion": created["version"]}})

    eventually(lambda: listing_id not in search_docs(stack, [listing_id]), what="the delete in search")
    assert listing_id not in graphql_search_ids(iam)
    tombstone = requests.get(
        f"{stack.info['search_endpoint']}/listings-v1/_doc/{listing_id}", timeout=10
    ).json()
    assert tombstone["_source"]["tombstone"] is True and tombstone["_version"] == int(created["version"]) + 1


def test_a_review_of_a_missing_listing_never_reaches_search(stack: LocalStack, iam: GraphQLClient) -> None:
    """Regression: released moto streamed the Put of a cancelled transaction (devstack/motoserver.py), so
    `addReview` on a missing listing answered NotFoundError yet indexed the review, and the next write,
    numbered like the phantom record, was skipped by the poller."""
    listing = {"title": "Loft", "category": "STUDIO", "price": 900, "currency": "EUR",
               "location": {"lat": 45.46, "lon": 9.19}, "city": "Milan", "owner": "e2e"}  # fmt: skip
    search = stack.info["search_endpoint"]

    def indexed(index: str, doc_id: str) -> bool:
        found: bool = requests.get(f"{search}/{index}/_doc/{doc_id}", timeout=10).json().get("found") is True
        return found

    first = iam.execute(CREATE, {"input": listing})["createListing"]
    # Right after the poller read a record its shard iterator is open, as on a busy stack.
    eventually(lambda: indexed("listings-v1", first["id"]), what="the first listing projected")
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    review_id = f"{missing}.e2e"  # derived: <listingId>.<author> (docs/design.md §1)
    review = {
        "listingId": missing,
        "id": review_id,
        "rating": 4,
        "text": "Never written",
        "author": "e2e",
    }
    with pytest.raises(GraphQLError) as refused:
        iam.execute(ADD_REVIEW, {"input": review})
    assert refused.value.error_type == "NotFoundError"
    second = iam.execute(CREATE, {"input": listing})["createListing"]

    # The stream is ordered: once the later write is projected, a phantom review would be too.
    eventually(
        lambda: indexed("listings-v1", second["id"]) or indexed("reviews-v1", review_id),
        what="the write after the cancelled one projected",
    )
    assert not indexed("reviews-v1", review_id), "the refused review was indexed"
    assert indexed("listings-v1", second["id"])


def test_killing_and_restarting_the_poller_loses_and_duplicates_nothing(stack: LocalStack) -> None:
    rows = [json.loads(line) for line in (FIXTURES_DIR / "listings.jsonl").read_text().splitlines()[100:160]]
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.info["dynamodb_endpoint"])
    poller = stack.children["poller"]
    for number, row in enumerate(rows):
        dynamodb.put_item(TableName=stack.info["table_name"], Item=listing_item(row))
        if number == 20:
            os.kill(poller.pid, signal.SIGKILL)  # mid-stream: some of these are projected, some not yet
    poller.process.wait()
    checkpoint_before = stack.checkpoint_file.read_text()
    stack.start_poller()

    ids = [row["id"] for row in rows]
    docs = eventually(
        lambda: (d := search_docs(stack, ids)) and len(d) == len(ids) and d, what="replay after restart"
    )
    assert {i: d["_version"] for i, d in docs.items()} == {r["id"]: version_of(r["createdAt"]) for r in rows}
    # Nothing lost, nothing doubled: search holds exactly the table's live listings, at their versions.
    eventually(lambda: stack.checkpoint_file.read_text() != checkpoint_before, what="checkpoint advances")
    table = table_listings(stack)
    everything = search_docs(stack, list(table))
    assert {i: d["_version"] for i, d in everything.items()} == table
    count = requests.get(f"{stack.info['search_endpoint']}/listings/_count", timeout=10).json()["count"]
    assert count == len(table)


def test_a_poison_record_goes_to_the_dead_letter_queue_and_later_records_still_project(
    stack: LocalStack,
) -> None:
    rows = [json.loads(line) for line in (FIXTURES_DIR / "listings.jsonl").read_text().splitlines()[200:203]]
    poison = listing_item(rows[0])
    poison["price"] = {"S": "cheap"}  # the mapping says double: a 400 mapper_parsing_exception
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.info["dynamodb_endpoint"])
    dynamodb.put_item(TableName=stack.info["table_name"], Item=poison)
    for row in rows[1:]:
        dynamodb.put_item(TableName=stack.info["table_name"], Item=listing_item(row))

    later = [row["id"] for row in rows[1:]]
    eventually(lambda: len(search_docs(stack, later)) == 2, what="the records after the poison one")
    sqs = boto3.client("sqs", endpoint_url=stack.info["sqs_endpoint"])

    def poison_message() -> dict[str, Any] | None:
        answer = sqs.receive_message(QueueUrl=stack.info["dead_letter_queue_url"], MaxNumberOfMessages=10)
        bodies = [json.loads(m["Body"]) for m in answer.get("Messages", [])]
        poison_key = {"pk": {"S": f"LISTING#{rows[0]['id']}"}, "sk": {"S": "LISTING"}}
        return next((b for b in bodies if b["record"]["dynamodb"]["Keys"] == poison_key), None)

    message = eventually(poison_message, what="the poison record in the dead-letter queue")
    assert message["error"]["status"] == 400
    assert message["record"]["dynamodb"]["NewImage"]["price"] == {"S": "cheap"}
    assert rows[0]["id"] not in search_docs(stack, [rows[0]["id"]])
    # It was the projector's decision, not a stuck batch: nothing went to the on-failure destination.
    on_failure = sqs.receive_message(QueueUrl=stack.info["on_failure_queue_url"], MaxNumberOfMessages=10)
    assert on_failure.get("Messages", []) == []


def test_a_poison_record_above_the_queue_limit_is_dead_lettered_cut_to_fit(stack: LocalStack) -> None:
    """Regression: the projector cut dead letters at 1 MiB while the queue takes 256 KiB (the local queues
    now share terraform/definitions/queues.json, so moto refuses what SQS would). A MODIFY of a large item
    carries two images: the letter drops them and keeps what identifies the item."""
    rows = [json.loads(line) for line in (FIXTURES_DIR / "listings.jsonl").read_text().splitlines()[203:205]]
    poison = {**listing_item(rows[0]), "price": {"S": "cheap"}, "description": {"S": "a" * 150_000}}
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.info["dynamodb_endpoint"])
    table = stack.info["table_name"]
    dynamodb.put_item(TableName=table, Item=poison)
    dynamodb.put_item(TableName=table, Item={**poison, "description": {"S": "b" * 150_000}})  # two images
    dynamodb.put_item(TableName=table, Item=listing_item(rows[1]))

    eventually(lambda: rows[1]["id"] in search_docs(stack, [rows[1]["id"]]), what="the record after them")
    sqs = boto3.client("sqs", endpoint_url=stack.info["sqs_endpoint"])
    key = {"pk": {"S": f"LISTING#{rows[0]['id']}"}, "sk": {"S": "LISTING"}}
    letters: dict[str, tuple[int, dict[str, Any]]] = {}

    def modify_letter() -> bool:
        answer = sqs.receive_message(QueueUrl=stack.info["dead_letter_queue_url"], MaxNumberOfMessages=10)
        for message in answer.get("Messages", []):
            body = json.loads(message["Body"])
            if body["record"]["dynamodb"]["Keys"] == key:
                letters[body["record"]["eventName"]] = (len(message["Body"].encode()), body)
        return "MODIFY" in letters

    # The INSERT has a letter of its own only when the two records arrive in different batches (within one,
    # the projector writes a key's newest record only).
    eventually(modify_letter, what="the poison MODIFY in the dead-letter queue")
    size, modify = letters["MODIFY"]
    assert size <= 262_144 and modify["truncated"] is True
    assert set(modify["record"]["dynamodb"]) >= {"Keys", "SequenceNumber"}
    assert "NewImage" not in modify["record"]["dynamodb"] and modify["error"]["status"] == 400
    if "INSERT" in letters:
        assert letters["INSERT"][1]["truncated"] is False  # one image fits: the letter is whole
    on_failure = sqs.receive_message(QueueUrl=stack.info["on_failure_queue_url"], MaxNumberOfMessages=10)
    assert on_failure.get("Messages", []) == []


def test_an_expired_item_leaves_search_through_the_ttl_sweeper(stack: LocalStack) -> None:
    row = json.loads((FIXTURES_DIR / "listings.jsonl").read_text().splitlines()[300])
    item = {**listing_item(row), "expiresAt": {"N": str(int(time.time()) + 2)}}
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.info["dynamodb_endpoint"])
    dynamodb.put_item(TableName=stack.info["table_name"], Item=item)
    eventually(lambda: row["id"] in search_docs(stack, [row["id"]]), what="the item in search")

    eventually(lambda: row["id"] not in search_docs(stack, [row["id"]]), timeout_s=30, what="the expiry")
    assert "Item" not in dynamodb.get_item(
        TableName=stack.info["table_name"], Key={"pk": item["pk"], "sk": item["sk"]}
    )
    out = (stack.log_dir / "poller.out").read_text()
    assert '"ttl_deleted":[1.0]' in out  # the projector saw a TTL delete, not a user's


def test_seeding_twice_changes_nothing(stack: LocalStack, seeded: list[str], iam: GraphQLClient) -> None:
    before = table_listings(stack)
    listings, reviews = seed(GraphQLWriter(iam), limit=10, out=io.StringIO())

    # All there already (one of them updated above: seeding leaves it as it is), no version changed.
    assert (listings.written, listings.existing, listings.bad) == (0, 10, [])
    assert reviews.written == 0 and reviews.bad == [] and reviews.existing > 0
    assert table_listings(stack) == before


def test_rows_the_api_rejects_are_reported_by_line(
    stack: LocalStack, iam: GraphQLClient, tmp_path: Path
) -> None:
    rows = [json.loads(line) for line in (FIXTURES_DIR / "listings.jsonl").read_text().splitlines()[400:402]]
    rows[1]["title"] = "   "  # passes the file check, fails the API's (blank after trimming)
    listings = tmp_path / "listings.jsonl"
    listings.write_text("".join(json.dumps(row) + "\n" for row in rows))

    report, _ = seed(GraphQLWriter(iam), listings, None, out=io.StringIO())

    assert report.written == 1
    assert len(report.bad) == 1 and report.bad[0].startswith("listings.jsonl:2: ValidationError")


def test_stack_json_has_the_design_keys(stack: LocalStack) -> None:
    info = json.loads(stack.stack_file.read_text())
    keys = ["graphql_url", "region", "auth", "table_name", "search_endpoint", "dead_letter_queue_url"]
    keys += ["on_failure_queue_url", "dynamodb_endpoint", "sqs_endpoint", "token_command", "pids"]
    assert [key for key in keys if not info.get(key)] == []
    assert set(info["pids"]) == {"moto", "osmem", "appsync", "poller", "supervisor"}
    assert info["auth"]["iam"] is True and info["auth"]["api_key"]


def test_iam_callers_need_the_stacks_own_keys(stack: LocalStack) -> None:
    """The key pair is made for this stack and kept owner-only; moto's well-known key opens nothing."""
    assert stat.S_IMODE(stack.stack_file.stat().st_mode) == 0o600
    keys = json.loads(stack.stack_file.read_text())["auth"]["iam_credentials"]
    assert keys["access_key_id"].startswith("AKIALOCAL") and len(keys["secret_access_key"]) >= 40
    known = GraphQLClient(
        stack.info["graphql_url"],
        auth="iam",
        ca_file=stack.info["ca_file"],
        credentials=Credentials(LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"], LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"]),
    )
    with pytest.raises(GraphQLError) as refused:
        known.execute("{ __typename }")
    assert refused.value.errors[0]["errorType"] == "UnauthorizedException"


def test_the_endpoint_serves_https_trusted_through_the_stack_ca_only(stack: LocalStack) -> None:
    info = stack.info
    assert info["graphql_url"].startswith("https://127.0.0.1:")
    query = {"query": "{ __typename }"}
    key = {"x-api-key": info["auth"]["api_key"]}
    trusted = requests.post(info["graphql_url"], json=query, headers=key, verify=info["ca_file"], timeout=10)
    assert trusted.json() == {"data": {"__typename": "Query"}}
    with pytest.raises(requests.exceptions.SSLError):  # the system's CAs do not vouch for it
        requests.post(info["graphql_url"], json=query, headers=key, timeout=10)
    served = ssl.get_server_certificate(("127.0.0.1", int(info["graphql_url"].split(":")[2].split("/")[0])))
    assert spki_sha256(served.encode()) == info["tls_spki_sha256"]


def test_a_user_subscribed_over_wss_sees_another_users_write(stack: LocalStack, iam: GraphQLClient) -> None:
    """The stack's endpoint speaks AppSync's real-time protocol where Amplify looks for it, over TLS."""
    info = stack.info
    run = subprocess.run([*info["token_command"], "dora"], capture_output=True, text=True, check=True)
    header = {"host": info["graphql_url"].split("/")[2], "Authorization": run.stdout.strip()}
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    listing_id = f"wss-{uuid.uuid4().hex[:8]}"
    query = "subscription($id: ID) { onListingChanged(id: $id) { id title } }"

    async def scenario() -> dict[str, Any]:
        realtime = info["graphql_url"].replace("https://", "wss://") + "/realtime"
        context = ssl.create_default_context(cafile=info["ca_file"])
        protocols = [Subprotocol("graphql-ws"), Subprotocol(f"header-{encoded}")]
        async with connect(realtime, subprotocols=protocols, ssl=context) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            data = json.dumps({"query": query, "variables": {"id": listing_id}})
            start = {
                "id": "1",
                "type": "start",
                "payload": {"data": data, "extensions": {"authorization": header}},
            }
            await ws.send(json.dumps(start))
            assert json.loads(await ws.recv()) == {"type": "start_ack", "id": "1"}
            spec = {"id": listing_id, "title": "Live room", "category": "ROOM", "price": 500, "owner": "e2e",
                    "currency": "EUR", "location": {"lat": 48.85, "lon": 2.35}, "city": "Paris"}  # fmt: skip
            await asyncio.to_thread(iam.execute, CREATE, {"input": spec})
            message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return message

    message = asyncio.run(scenario())
    assert message["type"] == "data" and message["id"] == "1"
    assert message["payload"]["data"]["onListingChanged"]["id"] == listing_id


def test_the_writer_receives_the_projection_signal_with_its_writes_version(stack: LocalStack) -> None:
    """Subscribe first, then write: the poller's projector publishes onListingProjected (SigV4, the stack's
    CA) once search holds the write, and the signal's version tells the writer it covers that write."""
    info = stack.info
    token = subprocess.run([*info["token_command"], "erin"], capture_output=True, text=True, check=True)
    header = {"host": info["graphql_url"].split("/")[2], "Authorization": token.stdout.strip()}
    user = GraphQLClient(
        info["graphql_url"], auth="token", token=header["Authorization"], ca_file=info["ca_file"]
    )
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    sub = local_sub("erin")
    query = (
        "subscription($owner: String) {"
        " onListingProjected(owner: $owner) { id owner version deleted projectedAt } }"
    )
    listing_id = f"sig-{uuid.uuid4().hex[:8]}"

    async def scenario() -> list[dict[str, Any]]:
        realtime = info["graphql_url"].replace("https://", "wss://") + "/realtime"
        context = ssl.create_default_context(cafile=info["ca_file"])
        protocols = [Subprotocol("graphql-ws"), Subprotocol(f"header-{encoded}")]
        async with connect(realtime, subprotocols=protocols, ssl=context) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            data = json.dumps({"query": query, "variables": {"owner": sub}})
            start = {
                "id": "p",
                "type": "start",
                "payload": {"data": data, "extensions": {"authorization": header}},
            }
            await ws.send(json.dumps(start))
            assert json.loads(await ws.recv()) == {"type": "start_ack", "id": "p"}
            spec = {"id": listing_id, "title": "Signalled room", "category": "ROOM", "price": 510,
                    "currency": "EUR", "location": {"lat": 48.85, "lon": 2.35}, "city": "Paris"}  # fmt: skip
            created = await asyncio.to_thread(user.execute, CREATE, {"input": spec})
            update = {"id": listing_id, "expectedVersion": created["createListing"]["version"], "price": 520}
            updated = await asyncio.to_thread(user.execute, UPDATE, {"input": update})
            written = updated["updateListing"]["version"]
            signals: list[dict[str, Any]] = []
            while not signals or int(signals[-1]["version"]) < int(written):
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if message["type"] == "data":
                    signals.append(message["payload"]["data"]["onListingProjected"])
            return signals

    signals = asyncio.run(scenario())
    last = signals[-1]
    assert (last["id"], last["owner"], last["deleted"]) == (listing_id, local_sub("erin"), False)
    docs = search_docs(stack, [listing_id])
    assert str(docs[listing_id]["version"]) == last["version"], "search holds what the signal announced"
    assert last["projectedAt"].endswith("Z")


def test_the_benchmark_prints_its_figures_as_a_last_json_line(stack: LocalStack) -> None:
    """Only that it runs and reports; the lag targets are for the real run (README "Freshness")."""
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts/bench_e2e.py"),
            "--stack-file",
            str(stack.stack_file),
            "-n",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["writes"] == 10 and (figures["creates"], figures["updates"], figures["deletes"]) == (
        5,
        3,
        2,
    )
    assert 0 < figures["lag_p50_ms"] <= figures["lag_p95_ms"] <= figures["lag_max_ms"]
