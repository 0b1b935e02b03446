"""The projector handler's instructions per record, counted by valgrind: a figure load cannot move.

    python scripts/count_instructions.py [--batches 3] [--sizes 1000 100]

Time on a shared machine swings by tens of percent between runs; instruction counts repeat exactly for the
same interpreter, code and input. For each batch size the handler projects the benchmark's workload
(scripts/bench_projector.py) against a stub OpenSearch that accepts every action, twice under cachegrind:
once projecting no batch and once projecting ``--batches`` batches. The difference over the records is the
handler's own cost per record (start-up, imports and building the workload cancel out). The stub answers
from counts computed before either run, so it adds no per-request work of its own. ``PYTHONHASHSEED`` is
fixed: string hashing decides dict layouts, and with them a few percent of the count.

The last line printed is one JSON object: ``instructions_per_record_b<size>`` for each size.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def measure(size: int, batches: int) -> float:
    """Instructions per record at batch ``size``, from two cachegrind runs of :func:`project`."""
    counts = [_instructions(size, batches, projected) for projected in (0, batches)]
    return (counts[1] - counts[0]) / (size * batches)


def _instructions(size: int, batches: int, projected: int) -> int:
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, __file__, "--inner", str(size), str(batches), str(projected),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"cachegrind run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def project(size: int, batches: int, projected: int) -> None:
    """The inner run: build ``batches`` batches (and one to warm up), then project the first ``projected``."""
    import bench_projector
    import orjson

    from projector import handler
    from projector.stream import StreamProjector
    from projector.transport import Response

    workload = bench_projector.Workload(seed=1)
    events = [workload.batch(size) for _ in range(batches + 1)]  # the first one warms up
    planner = StreamProjector(None, None, None)  # type: ignore[arg-type]
    success = {"index": {"status": 201}}
    answers = [
        orjson.dumps({"errors": False, "items": [success] * len(planner.plan(event).groups)})
        for event in events
    ]
    answers.reverse()  # popped in order

    class AcceptingOpenSearch:
        """Answers the writer's requests as OpenSearch would if every action succeeded."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def request(self, method: str, path: str, *args: Any, **kwargs: Any) -> Response:
            if path.startswith("/_bulk"):
                return Response(200, answers.pop())
            alias = path.rsplit("/", 1)[-1]  # GET /_alias/<name>-write
            return Response(200, orjson.dumps({alias.replace("-write", "-v1"): {"aliases": {alias: {}}}}))

        def close(self) -> None:
            pass

    os.environ.update(
        OPENSEARCH_ENDPOINT="http://127.0.0.1:9",
        OPENSEARCH_AUTH="none",
        DEAD_LETTER_QUEUE_URL="http://127.0.0.1:9/000000000000/unused",
        POWERTOOLS_METRICS_NAMESPACE="instructions",
    )
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the handler's EMF lines
    context = bench_projector.lambda_context()
    with mock.patch.object(handler, "Transport", AcceptingOpenSearch):  # what its runtime is built with
        for event in events[: projected + 1]:
            response = handler.lambda_handler({"Records": event}, context)
            if response["batchItemFailures"]:
                raise SystemExit(f"records failed: {response}")


def main() -> None:
    parser = argparse.ArgumentParser(description="The projector handler's instructions per record")
    parser.add_argument("--batches", type=int, default=3, help="batches projected per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100], help="batch sizes")
    parser.add_argument("--inner", type=int, nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        project(*args.inner)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    figures = {}
    for size in args.sizes:
        figures[f"instructions_per_record_b{size}"] = round(measure(size, args.batches))
        print(f"batch {size:>5}: {figures[f'instructions_per_record_b{size}']:,} instructions per record")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
