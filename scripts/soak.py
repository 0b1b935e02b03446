"""Soak at scale: concurrent GraphQL writers with real version conflicts, a misbehaving OpenSearch, poller
restarts and an outage; then redrive, reconcile, and zero drift or exit 1.

    .venv/bin/python scripts/soak.py [--writes 20000] [--writers 8] [--outage 10] [--restarts 4]

It starts a fresh local stack of its own (moto, osmem, the local AppSync endpoint, the stream poller; state
in a temporary directory, removed at the end unless `--keep`), with `devstack/faultproxy.py` between the
projector and OpenSearch. `--writers` threads then send `--writes` accepted mutations (creates, updates,
deletes and re-creates of the same ids) through the real resolvers, as IAM backends. Each writer keeps
its own idea of every listing's version, as a client does. Most ids belong to one writer (`--keys` shared
out); a share of the operations (`--hot-share`) goes to a few hot listings every writer updates, deletes
and re-creates, and there writers racing on the same listing are refused by the resolvers' optimistic
concurrency (`ConflictError`, `AlreadyExistsError`, `NotFoundError`): the loser re-reads the listing
(`getListing`) and retries, up to `--retries` times, then gives up.

Meanwhile, by progress through the writes: the proxy answers `_bulk` with 429s, 500s, hung and dropped
connections and per-item 429s, then per-item 500s, then 400s for a few ids (poison: dead letters); the
poller is restarted `--restarts` times (alternately SIGTERM and SIGKILL: it resumes from its checkpoint);
at 80 % the proxy refuses every connection for `--outage` seconds while the writers go on (the poller runs
with a short function time-out and few retries, so batches reach the on-failure queue). After the last write
the faults stop, the stream drains, `scripts/redrive.py` takes both queues and `scripts/reconcile.py`
compares the table with every index.

One line per phase with its time; the last line is JSON: writes by kind, conflicts by kind, faults injected
by kind, restarts, outage length, time to converge (last write → the read alias equals the table) and
drift. Exit 0: drift 0, converged, every queued message redriven; 1: otherwise (or the API kept failing
before all the writes were done); 2: the stack could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
import requests

from devstack.faultproxy import FaultProxy
from devstack.stack import LocalStack, StackError, StackOptions
from projector.names import index_family
from stackclient.errors import GraphQLClientError, GraphQLError
from stackclient.graphql import GraphQLClient
from stackclient.stack import LOCAL_AWS_ENV, graphql_credentials, stack_from_mapping

REPO = Path(__file__).resolve().parent.parent
FIELDS = "id version"
GET = f"query G($id: ID!) {{ getListing(id: $id) {{ {FIELDS} }} }}"
CREATE = f"mutation C($input: CreateListingInput!) {{ createListing(input: $input) {{ {FIELDS} }} }}"
UPDATE = f"mutation U($input: UpdateListingInput!) {{ updateListing(input: $input) {{ {FIELDS} }} }}"
DELETE = f"mutation D($input: DeleteListingInput!) {{ deleteListing(input: $input) {{ {FIELDS} }} }}"
# What the resolvers answer when a writer's idea of the listing is out of date.
CONFLICTS = ("ConflictError", "AlreadyExistsError", "NotFoundError")
OWNER = "soak"
# The proxy's fault plan, by share of the writes done: whole-request faults throughout, per-item faults
# whose status changes (429, then 500, then 400 for the poison ids, which land in the dead-letter queue).
REQUEST_FAULTS = {"status_429": 0.04, "status_500": 0.03, "timeout": 0.01, "drop": 0.02}
ITEM_PHASES = ((0.0, 429), (0.4, 500), (0.6, 400), (0.75, 429))
OUTAGE_AT = 0.8


def log(line: str) -> None:
    print(line, flush=True)


@dataclass
class Tally:
    """What the writers did, shared between their threads."""

    target: int
    accepted: int = 0
    writes: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    gave_up: int = 0
    reads: int = 0
    deleted_ids: set[str] = field(default_factory=set)
    last_write_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self) -> bool:
        """Go on writing? Not once the target is reached, nor when the API keeps failing (a dead stack)."""
        with self.lock:
            return self.accepted < self.target and sum(self.errors.values()) <= 50 + self.target // 10

    def accept(self, kind: str, listing_id: str) -> None:
        with self.lock:
            if kind == "create" and listing_id in self.deleted_ids:
                kind = "recreate"
            if kind == "delete":
                self.deleted_ids.add(listing_id)
            self.writes[kind] += 1
            self.accepted += 1
            self.last_write_at = time.monotonic()

    def count(self, counter: str, kind: str) -> None:
        with self.lock:
            getattr(self, counter)[kind] += 1


class Writer:
    """One client: its own cache of versions (None: believed absent), so other writers make it stale."""

    def __init__(self, number: int, client: GraphQLClient, tally: Tally, args: argparse.Namespace) -> None:
        self.number = number
        self.client = client
        self.tally = tally
        self.args = args
        self.rng = random.Random(args.seed * 1000 + number)
        self.known: dict[str, int | None] = {}  # a fresh stack: every id starts absent
        self.sequence = 0

    def pick(self) -> str:
        """A hot id (every writer's) or one of this writer's own ids (--keys shared out among writers)."""
        if self.rng.random() < self.args.hot_share:
            return f"hot-{self.rng.randrange(self.args.hot_keys):03d}"
        own = max(1, self.args.keys // self.args.writers)
        return f"key-{self.number:02d}-{self.rng.randrange(own):05d}"

    def run(self) -> None:
        while self.tally.claim():
            listing_id = self.pick()
            delete = self.rng.random() < self.args.delete_share
            for attempt in range(self.args.retries + 1):
                outcome = self.attempt(listing_id, delete)
                if outcome != "conflict":
                    break
                if attempt == self.args.retries:
                    with self.tally.lock:
                        self.tally.gave_up += 1
                    break
                self.reread(listing_id)

    def reread(self, listing_id: str) -> None:
        try:
            found = self.client.execute(GET, {"id": listing_id})["getListing"]
        except GraphQLClientError as error:
            self.tally.count("errors", type(error).__name__)
            self.known.pop(listing_id, None)
            return
        with self.tally.lock:
            self.tally.reads += 1
        self.known[listing_id] = None if found is None else int(found["version"])

    def attempt(self, listing_id: str, delete: bool) -> str:
        """One mutation from what this writer believes; "ok", "conflict" or "error"."""
        version = self.known.get(listing_id)
        self.sequence += 1
        stamp = f"w{self.number}n{self.sequence}"
        if version is None:
            kind, query = "create", CREATE
            variables: dict[str, Any] = {"input": self.listing(listing_id, stamp)}
        elif delete:
            kind, query = "delete", DELETE
            variables = {"input": {"id": listing_id, "expectedVersion": str(version)}}
        else:
            kind, query = "update", UPDATE
            update = {"id": listing_id, "expectedVersion": str(version), "title": f"soak {stamp}"}
            variables = {"input": {**update, "price": 100 + self.sequence % 900}}
        try:
            answer = self.client.execute(query, variables)
        except GraphQLError as error:
            if error.error_type in CONFLICTS:
                self.tally.count("conflicts", error.error_type)
                return "conflict"
            self.tally.count("errors", error.error_type)
            self.known.pop(listing_id, None)  # outcome unknown: re-read before the next write
            self.reread(listing_id)
            return "error"
        except GraphQLClientError as error:
            self.tally.count("errors", type(error).__name__)
            self.reread(listing_id)
            return "error"
        written = next(iter(answer.values()))
        self.known[listing_id] = None if kind == "delete" else int(written["version"])
        self.tally.accept(kind, listing_id)
        return "ok"

    def listing(self, listing_id: str, stamp: str) -> dict[str, Any]:
        return {
            "id": listing_id,
            "title": f"soak {stamp}",
            "category": "APARTMENT",
            "price": 100 + self.sequence % 900,
            "currency": "EUR",
            "location": {"lat": 52.5 + self.rng.random() / 10, "lon": 13.4 + self.rng.random() / 10},
            "city": "Berlin",
            "owner": OWNER,
        }


class Faults:
    """Drives the proxy through the plan and counts what it injected, by kind."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.item_status = 429
        self.item_failures: Counter[str] = Counter()
        self._counted = 0

    def items(self, status: int, poison_ids: tuple[str, ...]) -> None:
        self._attribute()
        self.item_status = status
        poison = status == 400
        self.proxy.set(
            item_failure=0.0 if poison else 0.03, fail_ids=poison_ids if poison else (), item_status=status
        )

    def _attribute(self) -> None:
        total = self.proxy.stats["item_failures"]
        self.item_failures[f"item_{self.item_status}"] += total - self._counted
        self._counted = total

    def injected(self) -> dict[str, int]:
        self._attribute()
        stats = self.proxy.stats
        kinds = {k: stats[k] for k in ("status_429", "status_500", "timeout", "drop", "refused")}
        return {**kinds, **self.item_failures, "outages": stats["outages"]}


def restart_poller(stack: LocalStack, kill: bool) -> float:
    started = time.monotonic()
    poller = stack.children["poller"]
    if kill:
        poller.process.kill()  # a crash: whatever batch was in flight is replayed from the checkpoint
        poller.process.wait()
    else:
        poller.stop()
    stack.start_poller()
    return time.monotonic() - started


def stream_caught_up(stack: LocalStack, streams: Any) -> bool:
    """The poller's checkpoint is at the end of every shard (no record after it)."""
    try:
        checkpoint = json.loads(stack.checkpoint_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    arn = stack.info["stream_arn"]
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        sequence = checkpoint.get(arn, {}).get(shard["ShardId"], {}).get("sequence_number")
        if sequence is None:
            return False
        iterator = streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard["ShardId"],
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=sequence,
        )["ShardIterator"]
        if streams.get_records(ShardIterator=iterator, Limit=1)["Records"]:
            return False
    return True


def table_versions(dynamodb: Any, table: str) -> dict[str, int]:
    found: dict[str, int] = {}
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="#t = :listing",
        ProjectionExpression="id, version",
        ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={":listing": {"S": "Listing"}},
    )
    for page in pages:
        for item in page["Items"]:
            found[item["id"]["S"]] = int(item["version"]["N"])
    return found


def search_versions(endpoint: str) -> dict[str, int]:
    """id → version of what the read alias shows (tombstones hidden), paged by `search_after`."""
    alias = index_family("Listing").read_alias
    found: dict[str, int] = {}
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"size": 5000, "version": True, "_source": False, "sort": [{"id": "asc"}]}
        if after is not None:
            body["search_after"] = after
        hits = requests.post(f"{endpoint}/{alias}/_search", json=body, timeout=60).json()["hits"]["hits"]
        for hit in hits:
            found[hit["_id"]] = int(hit["_version"])
        if len(hits) < 5000:
            return found
        after = hits[-1]["sort"]


def differences(dynamodb: Any, table: str, endpoint: str) -> int:
    """How many listings the read alias shows otherwise than the table holds them."""
    want, have = table_versions(dynamodb, table), search_versions(endpoint)
    return sum(1 for key in want.keys() | have.keys() if want.get(key) != have.get(key))


def ops_script(name: str, stack_file: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """Run `scripts/<name> --json` on the soak's stack as an operator would; (exit code, its JSON)."""
    command = [sys.executable, str(REPO / "scripts" / name), "-s", str(stack_file), "--json", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=REPO)
    try:
        body: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        body = {"error": (done.stderr or done.stdout).strip()[-500:]}
    return done.returncode, body


def soak(args: argparse.Namespace, state_dir: Path) -> dict[str, Any]:
    os.environ.update(LOCAL_AWS_ENV)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the poller's projector: thousands of batches
    poller_args = (
        "--function-timeout", str(args.function_timeout),
        "--maximum-retry-attempts", str(args.max_retry_attempts),
    )  # fmt: skip
    stack = LocalStack(StackOptions(state_dir=state_dir, poller_args=poller_args))
    phase = time.monotonic()
    info = stack.start()
    proxy = FaultProxy(info["search_endpoint"], seed=args.seed).start()
    try:
        # The projector writes through the proxy from the start; search and the ops tools read osmem.
        stack.projector_search_endpoint = proxy.url
        stack.children["poller"].stop()
        stack.start_poller()
        log(f"phase start     {time.monotonic() - phase:7.1f} s  stack up, projector behind {proxy.url}")
        return run(args, stack, info, proxy)
    finally:
        proxy.stop()
        stack.stop()


def run(
    args: argparse.Namespace, stack: LocalStack, info: dict[str, Any], proxy: FaultProxy
) -> dict[str, Any]:
    described = stack_from_mapping(info, "the soak's stack")
    tally = Tally(args.writes)
    faults = Faults(proxy)
    poison_ids = tuple(f"hot-{n:03d}" for n in range(min(3, args.hot_keys)))
    proxy.set(**REQUEST_FAULTS, hang_seconds=1.0)
    faults.items(429, poison_ids)
    writers = [
        Writer(
            number,
            GraphQLClient(
                info["graphql_url"],
                region=info["region"],
                auth="iam",
                ca_file=info.get("ca_file"),
                credentials=graphql_credentials(described),
            ),
            tally,
            args,
        )
        for number in range(args.writers)
    ]
    threads = [threading.Thread(target=w.run, name=f"writer-{w.number}", daemon=True) for w in writers]
    phase = time.monotonic()
    for thread in threads:
        thread.start()
    restart_at = [(n + 1) / (args.restarts + 1) for n in range(args.restarts)]
    item_phases = list(ITEM_PHASES[1:])
    restarts: list[float] = []
    outage: list[float] = []

    def refuse() -> None:
        started = time.monotonic()
        log(f"  outage: the proxy refuses connections for {args.outage:.0f} s from {tally.accepted} writes")
        proxy.refuse()
        time.sleep(args.outage)
        proxy.accept()
        outage.append(time.monotonic() - started)

    # Its own thread: the writers (and poller restarts) go on while OpenSearch is unreachable.
    outage_thread = threading.Thread(target=refuse, name="outage", daemon=True)
    while any(thread.is_alive() for thread in threads):
        done = tally.accepted / args.writes
        if item_phases and done >= item_phases[0][0]:
            faults.items(item_phases.pop(0)[1], poison_ids)
        if args.outage > 0 and not outage_thread.ident and done >= OUTAGE_AT:
            outage_thread.start()
        if restart_at and done >= restart_at[0]:
            restart_at.pop(0)
            kill = len(restarts) % 2 == 1
            restarts.append(restart_poller(stack, kill))
            how = "killed" if kill else "stopped"
            log(f"  poller {how} and restarted at {tally.accepted} writes ({restarts[-1]:.1f} s)")
        time.sleep(0.05)
    write_s = time.monotonic() - phase
    last_write = tally.last_write_at
    if outage_thread.ident:
        outage_thread.join()  # the outage ends before the faults do
    outage_s = outage[0] if outage else 0.0
    injected = faults.injected()
    proxy.clear()
    attempts = tally.accepted + sum(tally.conflicts.values()) + sum(tally.errors.values())
    log(
        f"phase write     {write_s:7.1f} s  {tally.accepted} writes {dict(tally.writes)} "
        f"({tally.accepted / write_s:.0f}/s), {sum(tally.conflicts.values())} conflicts "
        f"{dict(tally.conflicts)}, gave up {tally.gave_up}, errors {dict(tally.errors)}; "
        f"faults {injected}"
    )

    # Drain: the faults are gone; wait until the poller's checkpoint is at the end of the stream.
    phase = time.monotonic()
    dynamodb = boto3.client("dynamodb", endpoint_url=info["dynamodb_endpoint"], region_name=info["region"])
    streams = boto3.client(
        "dynamodbstreams", endpoint_url=info["dynamodb_endpoint"], region_name=info["region"]
    )
    sqs = boto3.client("sqs", endpoint_url=info["sqs_endpoint"], region_name=info["region"])
    while not stream_caught_up(stack, streams):
        if time.monotonic() - phase > args.timeout:
            raise TimeoutError(f"the poller did not reach the end of the stream within {args.timeout:.0f} s")
        time.sleep(0.5)
    endpoint, table = info["search_endpoint"], info["table_name"]
    before_redrive = differences(dynamodb, table, endpoint)
    converged_at = time.monotonic() if before_redrive == 0 else None
    queued = {
        "dead_letters": queue_depth(sqs, info["dead_letter_queue_url"]),
        "on_failure": queue_depth(sqs, info["on_failure_queue_url"]),
    }
    log(
        f"phase drain     {time.monotonic() - phase:7.1f} s  stream drained; {before_redrive} listings "
        f"differ; queued {queued}"
    )

    phase = time.monotonic()
    redrive_code, redrive = ops_script("redrive.py", stack.stack_file)
    wanted = ("received", "deleted", "kept", "keys", "outcomes", "error")
    redriven = {key: redrive[key] for key in wanted if key in redrive}
    log(
        f"phase redrive   {time.monotonic() - phase:7.1f} s  scripts/redrive.py exit {redrive_code}: "
        f"{redriven}"
    )

    phase = time.monotonic()
    remaining = differences(dynamodb, table, endpoint)
    while remaining and time.monotonic() - phase < args.timeout:
        time.sleep(0.5)
        remaining = differences(dynamodb, table, endpoint)
    if remaining == 0 and converged_at is None:
        converged_at = time.monotonic()
    reconcile_code, reconciled = ops_script("reconcile.py", stack.stack_file)
    drift = reconciled.get("drift")
    log(
        f"phase reconcile {time.monotonic() - phase:7.1f} s  {remaining} listings differ; "
        f"scripts/reconcile.py exit {reconcile_code}, drift {drift}"
    )
    return {
        "writes": tally.accepted,
        "writes_by_kind": dict(tally.writes),
        "writers": args.writers,
        "attempts": attempts,
        "conflicts": sum(tally.conflicts.values()),
        "conflicts_by_kind": dict(tally.conflicts),
        "gave_up": tally.gave_up,
        "rereads": tally.reads,
        "errors": dict(tally.errors),
        "write_seconds": round(write_s, 1),
        "writes_per_second": round(tally.accepted / write_s, 1),
        "faults_injected": injected,
        "restarts": len(restarts),
        "outage_seconds": round(outage_s, 1),
        "queued": queued,
        "redrive": {"exit": redrive_code, **redriven},
        "differences_before_redrive": before_redrive,
        "converge_seconds": None if converged_at is None else round(converged_at - last_write, 1),
        "drift": drift,
        "reconcile_exit": reconcile_code,
        "listings": len(table_versions(dynamodb, table)),
    }


def queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(count) for count in attributes.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soak.py", description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--writes", type=int, default=20_000, help="accepted writes (default 20000)")
    parser.add_argument("-w", "--writers", type=int, default=8, help="concurrent writers (default 8)")
    parser.add_argument(
        "-k", "--keys", type=int, help="ordinary listing ids to write (default: writes / 10, at least 50)"
    )
    parser.add_argument("--hot-keys", type=int, default=12, help="hot listing ids all writers share (12)")
    parser.add_argument(
        "--hot-share", type=float, default=0.25, help="share of operations on hot listings (0.25)"
    )
    parser.add_argument("--delete-share", type=float, default=0.2, help="share of deletes of a present id")
    parser.add_argument("-r", "--retries", type=int, default=3, help="re-read and retry a conflict (3)")
    parser.add_argument("--restarts", type=int, default=4, help="poller restarts during the writes (4)")
    parser.add_argument(
        "-o", "--outage", type=float, default=10.0, help="seconds OpenSearch is unreachable (10; 0: none)"
    )
    parser.add_argument(
        "--function-timeout", type=float, default=4.0, help="the projector's time-out, seconds (4)"
    )
    parser.add_argument(
        "--max-retry-attempts", type=int, default=2, help="the event source mapping's retries (2)"
    )
    parser.add_argument(
        "-t", "--timeout", type=float, default=300.0, help="seconds to wait for the drain and convergence"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the writers and the proxy")
    parser.add_argument("--state-dir", type=Path, help="the stack's state directory (default: temporary)")
    parser.add_argument("--keep", action="store_true", help="keep the state directory (logs) afterwards")
    args = parser.parse_args(argv)
    if args.writes < 1 or args.writers < 1 or args.hot_keys < 1:
        parser.error("--writes, --writers and --hot-keys must be at least 1")
    args.keys = args.keys or max(50, args.writes // 10)
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="soak-"))
    log(
        f"soak: {args.writes} writes by {args.writers} writers over {args.keys} + {args.hot_keys} hot ids; "
        f"state in {state_dir}"
    )
    try:
        summary = soak(args, state_dir)
    except (StackError, TimeoutError, OSError) as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 2
    finally:
        if not args.keep and args.state_dir is None:
            shutil.rmtree(state_dir, ignore_errors=True)
    print(json.dumps(summary), flush=True)
    ok = (
        summary["drift"] == 0
        and summary["converge_seconds"] is not None
        and summary["redrive"]["exit"] == 0
        and summary["writes"] >= args.writes
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
