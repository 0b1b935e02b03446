"""Real-time benchmark: mutation latency with and without subscribers, and write → subscriber latency.

    .venv/bin/python scripts/bench_realtime.py [--writes 200] [--subscribers 100]

Starts its own moto, osmem and local AppSync endpoint (a child process over https/wss, with a CA made
for the run), then:

1. times `--writes` createListing calls with no subscriber, back to back, then `--writes` more paced
   (each after the previous one's fan-out is over: with no subscriber, at once);
2. opens `--subscribers` WebSocket connections (AppSync's protocol, API key), each subscribed to
   `onListingChanged`, and times `--writes` paced createListing calls (each sent once every subscriber has
   the previous one) and `--writes` back to back, measuring for each how long after the write was sent its
   `data` message reached the first and the last subscriber.

The endpoint, the subscribers and the writer are three processes on one machine. The target (issue 17:
mutation latency with 100 subscribers at most 1.5 times that with none) is checked on the paced writes:
they measure what a mutation's own fan-out and the open subscriptions cost it. Back to back, the next
write also shares the two cores with the previous write's fan-out and with the subscribers' own
process, which on AWS run elsewhere (AppSync's real-time service, the clients' machines); that ratio is
printed as well, for what it says about a saturated local stack. Prints one line per figure and, as the
last line, one JSON object. The projection signal (issue 17, item 2) is measured by
scripts/bench_signal.py, on a whole local stack.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import multiprocessing
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

import requests
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from devstack.appsync.auth import issue_token
from devstack.appsync.tls import create_local_tls
from devstack.resources import create_resources
from devstack.servers import free_port, start_moto, start_osmem
from stackclient.stack import LOCAL_AWS_ENV

REPO = Path(__file__).resolve().parent.parent
API_KEY = "bench-realtime-key"
SECRET = "bench-realtime-token-secret-of-32-bytes"
CREATE = "mutation($input: CreateListingInput!) { createListing(input: $input) { id title owner version } }"
SUBSCRIBE = "subscription { onListingChanged { id title owner version } }"
RATIO_TARGET = 1.5  # issue 17: mutation p50 with 100 subscribers at most 1.5 times that with none


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(name: str, samples_ms: list[float]) -> dict[str, float]:
    out = {"p50": percentile(samples_ms, 0.5), "p95": percentile(samples_ms, 0.95), "max": max(samples_ms)}
    p50, p95, top = out["p50"], out["p95"], out["max"]
    print(f"{name:<44} n={len(samples_ms):<4} p50={p50:7.1f} ms  p95={p95:7.1f} ms  max={top:7.1f} ms")
    return out


class Writer:
    """createListing over one keep-alive HTTPS connection, as a signed-in user."""

    def __init__(self, url: str, ca_file: Path) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
        self.session.verify = str(ca_file)
        self.headers = {"Authorization": issue_token("bench", SECRET)}

    def create(self, n: int) -> tuple[str, float]:
        """Send one write; return the listing's id and when the write was sent (monotonic seconds)."""
        listing_id = f"bench-{uuid.uuid4().hex[:12]}"
        spec: dict[str, Any] = {
            "id": listing_id,
            "title": f"bench flat {n}",
            "category": "ROOM",
            "price": n % 2000,
            "currency": "EUR",
            "location": {"lat": 52.5, "lon": 13.4},
            "city": "Berlin",
        }
        sent = time.monotonic()
        answer = self.session.post(
            self.url, json={"query": CREATE, "variables": {"input": spec}}, headers=self.headers
        )
        body = answer.json()
        if body.get("errors"):
            raise RuntimeError(f"createListing failed: {body['errors'][0]}")
        return listing_id, sent

    def timed(self, n: int) -> float:
        """One write's latency in milliseconds."""
        _, sent = self.create(n)
        return (time.monotonic() - sent) * 1000


async def subscriber(realtime_url: str, host: str, context: ssl.SSLContext) -> ClientConnection:
    header = {"host": host, "x-api-key": API_KEY}
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    protocols = [Subprotocol("graphql-ws"), Subprotocol(f"header-{encoded}")]
    ws = await connect(realtime_url, subprotocols=protocols, ssl=context, max_queue=None)
    await ws.send(json.dumps({"type": "connection_init"}))
    await _expect(ws, "connection_ack")
    data = json.dumps({"query": SUBSCRIBE, "variables": {}})
    payload = {"data": data, "extensions": {"authorization": header}}
    await ws.send(json.dumps({"id": "s", "type": "start", "payload": payload}))
    await _expect(ws, "start_ack")
    return ws


async def _expect(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message.get("type") == kind:
            return message
        if message.get("type") != "ka":
            raise RuntimeError(f"expected {kind}, got {message}")


async def _listen(realtime_url: str, host: str, ca_file: str, count: int, writes: int, out: Any) -> None:
    """Every subscriber reads `writes` messages; each write's id is reported once all `count` have it."""
    context = ssl.create_default_context(cafile=ca_file)
    sockets = await asyncio.gather(*(subscriber(realtime_url, host, context) for _ in range(count)))
    out.put("ready")
    arrivals: dict[str, list[float]] = {}

    async def drain(ws: ClientConnection) -> None:
        # One time-out for the whole phase rather than one per message (asyncio.wait_for makes a task
        # each time): the subscribers share the machine with the endpoint, so their own CPU is kept low.
        received = 0
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "data":
                listing_id = message["payload"]["data"]["onListingChanged"]["id"]
                seen = arrivals.setdefault(listing_id, [])
                seen.append(time.monotonic())
                if len(seen) == count:
                    out.put(("delivered", listing_id))
                received += 1
                if received == writes:
                    return
            elif message.get("type") != "ka":
                raise RuntimeError(f"expected data, got {message}")

    await asyncio.wait_for(asyncio.gather(*(drain(ws) for ws in sockets)), 60 + writes)
    await asyncio.gather(*(ws.close() for ws in sockets))
    out.put(arrivals)


def listen(realtime_url: str, host: str, ca_file: str, count: int, writes: int, out: Any) -> None:
    """The subscribers, in a process of their own so their reading does not slow the writer."""
    asyncio.run(_listen(realtime_url, host, ca_file, count, writes, out))


def run(url: str, ca_file: Path, writes: int, subscribers: int) -> dict[str, Any]:
    writer = Writer(url, ca_file)
    for n in range(5):  # warm-up: the Node worker loads the resolvers, TLS sessions open
        writer.create(n)
    quiet = [writer.timed(n) for n in range(writes)]
    quiet_paced = [writer.timed(n) for n in range(writes)]  # nothing to wait for without subscribers
    host = url.split("/")[2]
    realtime_url = url.replace("https://", "wss://") + "/realtime"
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    listener = spawn.Process(
        target=listen, args=(realtime_url, host, str(ca_file), subscribers, 2 * writes, out)
    )
    listener.start()
    if out.get(timeout=120) != "ready":
        raise RuntimeError("the subscribers did not connect")
    busy, busy_paced, sent_at = [], [], {}
    for n in range(writes):
        listing_id, sent = writer.create(n)
        busy_paced.append((time.monotonic() - sent) * 1000)
        sent_at[listing_id] = sent
        if out.get(timeout=60) != ("delivered", listing_id):
            raise RuntimeError("the subscribers reported another write than the one just sent")
    for n in range(writes):
        listing_id, sent = writer.create(n)
        busy.append((time.monotonic() - sent) * 1000)
        sent_at[listing_id] = sent
    # CLOCK_MONOTONIC is one clock for every process on the machine, so the times compare.
    while not isinstance(message := out.get(timeout=120), dict):
        pass  # the back-to-back writes' delivery reports
    arrivals: dict[str, list[float]] = message
    listener.join(30)
    first = [(min(arrivals[i]) - sent) * 1000 for i, sent in sent_at.items()]
    last = [(max(arrivals[i]) - sent) * 1000 for i, sent in sent_at.items()]
    if any(len(arrivals[i]) != subscribers for i in sent_at):
        raise RuntimeError("a subscriber missed a write")
    result: dict[str, Any] = {"writes": writes, "subscribers": subscribers}
    result["mutation_ms_0_subscribers"] = figures("createListing paced, no subscriber", quiet_paced)
    result["mutation_ms_n_subscribers"] = figures(
        f"createListing paced, {subscribers} subscribers", busy_paced
    )
    quiet_b2b = figures("createListing back to back, no subscriber", quiet)
    busy_b2b = figures(f"createListing back to back, {subscribers} subscribers", busy)
    result["back_to_back"] = {"mutation_ms_0_subscribers": quiet_b2b, "mutation_ms_n_subscribers": busy_b2b}
    result["write_to_first_subscriber_ms"] = figures("write → onListingChanged, first subscriber", first)
    result["write_to_last_subscriber_ms"] = figures(f"write → onListingChanged, all {subscribers}", last)
    ratio = result["mutation_ms_n_subscribers"]["p50"] / result["mutation_ms_0_subscribers"]["p50"]
    result["mutation_p50_ratio"] = round(ratio, 2)
    result["mutation_p50_ratio_target"] = RATIO_TARGET
    verdict = "met" if ratio <= RATIO_TARGET else "missed"
    label = f"mutation p50 with {subscribers} subscribers / with none"
    print(f"{label}, paced: {ratio:.2f} (target ≤ {RATIO_TARGET}: {verdict})")
    saturated = busy_b2b["p50"] / quiet_b2b["p50"]
    result["back_to_back"]["mutation_p50_ratio"] = round(saturated, 2)
    print(f"{label}, back to back: {saturated:.2f} (no target: the subscribers share the machine)")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench_realtime.py", description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--writes", type=int, default=200, help="writes per phase (default 200)")
    parser.add_argument("-s", "--subscribers", type=int, default=100, help="subscribers in phase two (100)")
    args = parser.parse_args()
    os.environ.update(LOCAL_AWS_ENV)
    moto, osmem = start_moto(), start_osmem()
    endpoint: subprocess.Popen[str] | None = None
    try:
        table = "bench-realtime"
        create_resources(moto.url, table_name=table)
        tls = create_local_tls(Path(tempfile.mkdtemp(prefix="bench-realtime-tls-")))
        argv = [
            sys.executable, "-m", "devstack.appsync", "serve", "--port", str(free_port()),
            "--dynamodb-endpoint", moto.url, "--opensearch-endpoint", osmem.url, "--table", table,
            "--api-key", API_KEY, "--token-secret", SECRET,
            "--tls-cert", str(tls.cert_file), "--tls-key", str(tls.key_file),
        ]  # fmt: skip
        endpoint = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert endpoint.stdout is not None
        url = json.loads(endpoint.stdout.readline())["url"]
        result = run(url, tls.ca_file, args.writes, args.subscribers)
        print(json.dumps(result))
        return 0
    finally:
        if endpoint is not None:
            endpoint.terminate()
            endpoint.wait(15)
        moto.stop()
        osmem.stop()


if __name__ == "__main__":
    raise SystemExit(main())
