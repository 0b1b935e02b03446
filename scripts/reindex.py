"""Rebuild an entity's index from a new mapping while the old one serves, then swap the read alias atomically.

    python scripts/reindex.py --entity listings [--version 2] [--mapping projector/mappings/listings.v2.json]
                              [--stack-file F | --terraform-dir D] [--keep-old] [--abort] [--plan]

Exit code 0: swapped (or planned/aborted); 2: a step failed (the read alias was not moved unless it says so).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ops import cli
from ops.progress import Progress
from ops.reindex import PROJECTOR_ALIAS_CACHE_SECONDS, Reindexer
from ops.writer import entity_by_name
from projector.entities import ENTITIES
from stackclient.stack import dynamodb_client, opensearch_client


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("reindex.py", __doc__.splitlines()[0])
    parser.add_argument(
        "-e", "--entity", required=True, choices=[entity.base for entity in ENTITIES], help="index family"
    )
    parser.add_argument("-v", "--version", type=int, help="new index version N (default: current + 1)")
    parser.add_argument(
        "-m",
        "--mapping",
        type=Path,
        help="create-index body (default: projector/mappings/<entity>.v<N>.json)",
    )
    parser.add_argument(
        "--alias-cache-seconds",
        type=float,
        default=PROJECTOR_ALIAS_CACHE_SECONDS + 5,
        help="seconds to wait after adding the new index to the write alias; longer than the projector's "
        f"alias cache (default {PROJECTOR_ALIAS_CACHE_SECONDS + 5:g})",
    )
    parser.add_argument("--segments", type=int, default=4, help="backfill scan segments (default 4)")
    parser.add_argument("--rate", type=float, help="backfill at most this many items per second")
    parser.add_argument("-c", "--checkpoint", type=Path, help="backfill checkpoint file (resumable)")
    parser.add_argument(
        "--sample", type=int, default=50, help="documents compared before the swap (default 50)"
    )
    parser.add_argument("--verify-seconds", type=float, default=30.0, help="retry verification this long")
    parser.add_argument("--keep-old", action="store_true", help="keep the old index (without aliases)")
    parser.add_argument("--plan", action="store_true", help="print the old and new index and stop")
    parser.add_argument(
        "--abort", action="store_true", help="undo an unfinished reindex (delete the new index)"
    )
    args = parser.parse_args(argv)

    def command() -> int:
        stack = cli.stack_from(args)
        reindexer = Reindexer(
            opensearch_client(stack, timeout=60),
            dynamodb_client(stack),
            stack.table_name,
            cli.search_transport(stack, args.segments * 2),
            entity_by_name(args.entity),
            prefix=args.index_prefix,
            log=(lambda text: print(text, file=sys.stderr)) if args.json else print,
        )
        if args.abort:
            for line in reindexer.abort(args.version):
                print(line)
            return cli.EXIT_OK
        if args.plan:
            old, new, _ = reindexer.plan(args.version, args.mapping)
            cli.emit(args, f"{old} -> {new}", {"old_index": old, "new_index": new})
            return cli.EXIT_OK
        report = reindexer.run(
            args.version,
            args.mapping,
            alias_cache_seconds=args.alias_cache_seconds,
            segments=args.segments,
            rate=args.rate,
            checkpoint=args.checkpoint,
            sample_size=args.sample,
            verify_seconds=args.verify_seconds,
            keep_old=args.keep_old,
            progress=None if args.json else Progress("backfill"),
        )
        cli.emit(args, report.text(), report.as_json())
        return cli.EXIT_OK

    return cli.run(command)


if __name__ == "__main__":
    sys.exit(main())
