"""Project every table item into OpenSearch with its version: safe while the stream is live, resumable.

    python scripts/backfill.py [--stack-file F | --terraform-dir D] [--segments 4] [--rate 500]
                               [--checkpoint .dev/backfill.json] [--index INDEX] [--entity listings]

By default each entity is written to every index behind its write alias (as the projector does).
Exit code 0: done; 1: done, but some items were rejected (they cannot be projected); 2: error.
"""

from __future__ import annotations

import sys

from ops import cli
from ops.backfill import backfill
from ops.indices import require_alias_indices
from ops.progress import Progress
from ops.writer import ProjectionWriter
from projector.entities import LISTING
from stackclient.stack import dynamodb_client, opensearch_client


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("backfill.py", __doc__.splitlines()[0])
    cli.entity_option(parser)
    parser.add_argument("--segments", type=int, default=4, help="parallel scan segments/threads (default 4)")
    parser.add_argument("--page-size", type=int, default=250, help="items per Scan page (default 250)")
    parser.add_argument("--rate", type=float, default=None, help="at most this many items per second")
    parser.add_argument(
        "-c", "--checkpoint", help="checkpoint file: resume an interrupted run with the same options"
    )
    parser.add_argument(
        "-i",
        "--index",
        help=f"write only this concrete index (with one --entity), e.g. {LISTING.family.index_prefix}2",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)
    if args.index and len(args.entity or []) != 1:
        parser.error("--index needs exactly one --entity")
    if args.segments < 1:
        parser.error("--segments must be at least 1")

    def command() -> int:
        stack = cli.stack_from(args)
        search = opensearch_client(stack)
        targets = {
            entity.name: [args.index]
            if args.index
            else require_alias_indices(search, entity.write_alias(args.index_prefix))
            for entity in cli.entities(args.entity)
        }
        writer = ProjectionWriter(cli.search_transport(stack, args.segments * 2), targets)
        progress = None if args.quiet else Progress("backfill")
        result = backfill(
            dynamodb_client(stack),
            stack.table_name,
            writer,
            segments=args.segments,
            page_size=args.page_size,
            rate=args.rate,
            checkpoint_path=args.checkpoint,
            progress=progress,
        )
        cli.emit(args, result.text(), result.summary())
        return cli.EXIT_ATTENTION if result.tally.rejected else cli.EXIT_OK

    return cli.run(command)


if __name__ == "__main__":
    sys.exit(main())
