"""Project the items dead-letter messages name, as they are now in the table; delete each message on success.

    python scripts/redrive.py [--stack-file F | --terraform-dir D] [--queue all] [--dry-run]

Reads the projector's dead-letter queue (poison records) and the event source mapping's on-failure queue
(metadata: the shard range is re-read from the stream; once trimmed, a reconcile --repair stands in).
Exit code 0: every message received was redriven and deleted; 1: some were kept (see the output); 2: error.
"""

from __future__ import annotations

import sys

from ops import cli
from ops.reconcile import reconcile
from ops.redrive import Redriver
from ops.writer import ProjectionWriter
from stackclient.stack import dynamodb_client, opensearch_client, sqs_client, streams_client


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("redrive.py", __doc__.splitlines()[0])
    parser.add_argument(
        "-q",
        "--queue",
        choices=("dead-letter", "on-failure", "all"),
        default="all",
        help="which queue(s) to redrive (default: all)",
    )
    parser.add_argument("-n", "--dry-run", action="store_true", help="show what would happen; change nothing")
    parser.add_argument(
        "-l", "--limit", type=int, default=10_000, help="at most this many messages per queue"
    )
    parser.add_argument(
        "--no-reconcile-fallback",
        action="store_true",
        help="keep on-failure messages whose stream range is gone instead of running reconcile --repair",
    )
    args = parser.parse_args(argv)

    def command() -> int:
        stack = cli.stack_from(args)
        dynamodb, search = dynamodb_client(stack), opensearch_client(stack)
        writer = ProjectionWriter(cli.search_transport(stack), {})
        queues = []
        if args.queue in ("dead-letter", "all"):
            queues.append(stack.dead_letter_queue_url)
        if args.queue in ("on-failure", "all") and stack.on_failure_queue_url:
            queues.append(stack.on_failure_queue_url)

        def fallback() -> bool:
            report = reconcile(
                dynamodb, stack.table_name, search, ProjectionWriter(writer.transport, {}),
                prefix=args.index_prefix, repair=True,
            )  # fmt: skip
            return report.repaired is None or report.repair_complete

        redriver = Redriver(
            dynamodb,
            stack.table_name,
            sqs_client(stack),
            streams_client(stack),
            search,
            writer,
            prefix=args.index_prefix,
            reconcile_fallback=None if args.no_reconcile_fallback else fallback,
        )
        report = redriver.run(queues, dry_run=args.dry_run, limit=args.limit)
        cli.emit(args, report.text(args.dry_run), report.as_json())
        return cli.EXIT_ATTENTION if report.kept else cli.EXIT_OK

    return cli.run(command)


if __name__ == "__main__":
    sys.exit(main())
