"""Projection-signal benchmark: write → onListingProjected latency at the subscriber, on the local stack.

    .venv/bin/python scripts/bench_signal.py [--writes 200]

Starts a whole local stack of its own (moto, osmem, the local AppSync endpoint, the stream poller driving
the projector, in a temporary state directory), subscribes a signed-in user to their own listings'
projection signals over wss, then makes `--writes` writes one after another (creates, then updates of
them), each through the endpoint as that user. For each it measures how long after the write was sent the
signal covering it arrived: same id, version at least the write's. The signal travels write → DynamoDB
stream → poller (every 50 ms) → projector `_bulk` → publishListingProjected (SigV4) → subscriber.

Then it times the publication itself as the projector makes it (one request of 1 and of 50 signals to the
stack's endpoint, 50 times each) in CPU time of the publishing process: what the signal costs a Lambda.

Prints one line per figure and, as the last line, one JSON object. Targets (issue 17): signal p50 ≤ 150 ms,
p95 ≤ 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from devstack.appsync.auth import local_sub
from devstack.stack import LocalStack, StackOptions
from projector.signal import Signal, SignalPublisher
from projector.transport import Transport
from stackclient.graphql import GraphQLClient
from stackclient.stack import LOCAL_AWS_ENV

USER = "bench-signal"
CREATE = "mutation($input: CreateListingInput!) { createListing(input: $input) { id version } }"
UPDATE = "mutation($input: UpdateListingInput!) { updateListing(input: $input) { id version } }"
SUBSCRIBE = "subscription($owner: String) { onListingProjected(owner: $owner) { id version deleted } }"


def figures(name: str, samples_ms: list[float]) -> dict[str, float]:
    """Nearest-rank p50/p95 and the maximum, printed as one line (as scripts/bench_realtime.py does)."""
    ordered = sorted(samples_ms)
    out = {
        share: ordered[max(0, math.ceil(q * len(ordered)) - 1)] for share, q in (("p50", 0.5), ("p95", 0.95))
    }
    out["max"] = ordered[-1]
    p50, p95, top = out["p50"], out["p95"], out["max"]
    print(f"{name:<44} n={len(ordered):<4} p50={p50:7.1f} ms  p95={p95:7.1f} ms  max={top:7.1f} ms")
    return out


async def _subscribe(info: dict[str, Any], token: str) -> ClientConnection:
    header = {"host": info["graphql_url"].split("/")[2], "Authorization": token}
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    context = ssl.create_default_context(cafile=info["ca_file"])
    realtime = info["graphql_url"].replace("https://", "wss://") + "/realtime"
    protocols = [Subprotocol("graphql-ws"), Subprotocol(f"header-{encoded}")]
    ws = await connect(realtime, subprotocols=protocols, ssl=context, max_queue=None)
    await ws.send(json.dumps({"type": "connection_init"}))
    data = json.dumps({"query": SUBSCRIBE, "variables": {"owner": local_sub(USER)}})
    payload = {"data": data, "extensions": {"authorization": header}}
    await ws.send(json.dumps({"id": "sig", "type": "start", "payload": payload}))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["type"] == "start_ack":
            return ws
        if message["type"] not in ("connection_ack", "ka"):
            raise RuntimeError(f"subscription refused: {message}")


async def _measure(info: dict[str, Any], token: str, writes: int) -> list[float]:
    client = GraphQLClient(info["graphql_url"], auth="token", token=token, ca_file=info["ca_file"])
    ws = await _subscribe(info, token)
    latest: dict[str, int] = {}  # id → highest version signalled
    arrived: asyncio.Event = asyncio.Event()

    async def read() -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "data":
                signal = message["payload"]["data"]["onListingProjected"]
                latest[signal["id"]] = max(latest.get(signal["id"], 0), int(signal["version"]))
                arrived.set()

    reader = asyncio.create_task(read())
    samples: list[float] = []
    versions: dict[str, str] = {}
    try:
        for n in range(writes + 5):  # 5 warm-up writes are not counted
            ids = list(versions)
            if n < (writes + 5) // 2 or not ids:
                listing_id = f"sig-{uuid.uuid4().hex[:10]}"
                spec = {"id": listing_id, "title": f"signal flat {n}", "category": "ROOM", "price": n,
                        "currency": "EUR", "location": {"lat": 52.5, "lon": 13.4},
                        "city": "Berlin"}  # fmt: skip
                query, variables, field = CREATE, {"input": spec}, "createListing"
            else:
                listing_id = ids[n % len(ids)]
                change = {"id": listing_id, "expectedVersion": versions[listing_id], "price": n}
                query, variables, field = UPDATE, {"input": change}, "updateListing"
            sent = time.monotonic()
            written = (await asyncio.to_thread(client.execute, query, variables))[field]
            versions[listing_id] = written["version"]
            while latest.get(listing_id, 0) < int(written["version"]):
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), 10)
            if n >= 5:
                samples.append((time.monotonic() - sent) * 1000)
    finally:
        reader.cancel()
        await ws.close()
    return samples


def publish_cpu(info: dict[str, Any], fields: int, rounds: int = 50) -> float:
    """CPU ms of one publication of `fields` signals, as the projector's publisher makes it."""
    # The endpoint accepts only the stack's own key pair (stack.json auth.iam_credentials), which the
    # poller's projector signs with too; the signer reads it from the environment like a Lambda's role.
    keys = info["auth"]["iam_credentials"]
    os.environ["AWS_ACCESS_KEY_ID"] = keys["access_key_id"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = keys["secret_access_key"]
    os.environ.pop("AWS_SESSION_TOKEN", None)
    transport = Transport(
        info["graphql_url"],
        "sigv4",
        info["region"],
        max_connections=1,
        service="appsync",
        ca_file=info["ca_file"],
    )
    # A generous budget: this measures the publisher's own CPU, not whether the local endpoint (which runs
    # each aliased field through its Node worker in turn) answers 50 fields within the Lambda's 200 ms.
    publisher = SignalPublisher(transport, 5000)
    signals = [Signal(f"cpu-{n}", "nobody", 1, False) for n in range(fields)]
    publisher.publish(signals)  # connection, TLS session and signer warm, as in a warm Lambda
    started = time.process_time()
    for _ in range(rounds):
        result = publisher.publish(signals)
        if result.failed:
            raise RuntimeError(f"publication failed: {result.problems}")
    return (time.process_time() - started) * 1000 / rounds


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench_signal.py", description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--writes", type=int, default=200, help="measured writes (default 200)")
    args = parser.parse_args()
    os.environ.update(LOCAL_AWS_ENV)
    stack = LocalStack(StackOptions(state_dir=Path(tempfile.mkdtemp(prefix="bench-signal-"))))
    info = stack.start()
    try:
        command = [*info["token_command"], USER]
        token = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
        samples = asyncio.run(_measure(info, token, args.writes))
        result: dict[str, Any] = {"writes": len(samples)}
        result["write_to_signal_ms"] = figures("write → onListingProjected", samples)
        for fields in (1, 50):
            cpu = publish_cpu(info, fields)
            result[f"publish_cpu_ms_{fields}_signals"] = round(cpu, 2)
            print(f"{'publish CPU per invocation, ' + str(fields) + ' signal(s)':<44} {cpu:7.2f} ms")
        p50, p95 = result["write_to_signal_ms"]["p50"], result["write_to_signal_ms"]["p95"]
        print(f"targets: p50 ≤ 150 ms ({'met' if p50 <= 150 else 'missed'}), "
              f"p95 ≤ 500 ms ({'met' if p95 <= 500 else 'missed'})")  # fmt: skip
        print(json.dumps(result))
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
