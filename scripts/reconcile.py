"""Compare the table with every index the projector writes; report drift; `--repair` fixes it.

    python scripts/reconcile.py [--stack-file F | --terraform-dir D] [--json] [--repair [--max-raises N]]
    python scripts/reconcile.py --entity listings --id ID [--id ID ...]   # by key only: no scan

Exit code 0: no drift; 1: drift found (repaired or not; run again to confirm); 2: error, or a repair that
refused to give more than --max-raises items a new version in the table (the report says which; the rest
was repaired; rerun with a larger --max-raises once the cause, a restored table say, is understood).
"""

from __future__ import annotations

import sys
from dataclasses import asdict

from ops import cli
from ops.errors import OpsError
from ops.reconcile import DEFAULT_MAX_RAISES, reconcile, reconcile_key
from ops.writer import ProjectionWriter
from stackclient.stack import dynamodb_client, opensearch_client


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("reconcile.py", __doc__.splitlines()[0])
    cli.entity_option(parser)
    parser.add_argument(
        "-r", "--repair", action="store_true", help="re-project drifted items, tombstone orphans"
    )
    parser.add_argument(
        "--max-raises",
        type=int,
        default=DEFAULT_MAX_RAISES,
        help="give at most this many items a new version in the table when the index will not take their"
        f" version (held above it, or deleted by hand within index.gc_deletes); default {DEFAULT_MAX_RAISES}",
    )
    parser.add_argument("--segments", type=int, default=4, help="parallel scan segments (default 4)")
    parser.add_argument(
        "--settle", type=float, default=2.0, help="seconds to wait before re-checking candidates (default 2)"
    )
    parser.add_argument(
        "-i",
        "--id",
        action="append",
        metavar="ID",
        help="check only these documents, each by its item's key (repeatable; one --entity; no --repair)",
    )
    parser.add_argument(
        "--listing-id",
        help="with --entity reviews: the reviews' listing, checked against each id (a review's id, "
        "<listingId>.<author>, already names its key)",
    )
    args = parser.parse_args(argv)
    if args.max_raises < 0:
        parser.error("--max-raises must be 0 or more")
    if args.id and (args.repair or not args.entity or len(args.entity) != 1):
        parser.error("--id needs exactly one --entity and no --repair")

    def by_key() -> int:
        stack = cli.stack_from(args)
        [entity] = cli.entities(args.entity)
        dynamodb, search = dynamodb_client(stack), opensearch_client(stack)
        try:
            checks = [
                check
                for doc_id in args.id
                for check in reconcile_key(
                    dynamodb, stack.table_name, search, entity, doc_id, args.index_prefix, args.listing_id
                )
            ]
        except (LookupError, ValueError) as error:  # no such alias; an id that is no review key
            raise OpsError(str(error)) from error
        lines = [
            f"{c.index:<24} {c.doc_id}: {c.kind or 'in step'} (table {c.table_version}, index "
            f"{c.index_version}{', tombstone' if c.tombstone else ''})"
            for c in checks
        ]
        drift = [c for c in checks if c.kind is not None]
        lines.append("no drift" if not drift else f"DRIFT: {len(drift)} documents")
        body = {"drift": len(drift), "checks": [asdict(c) for c in checks]}
        cli.emit(args, "\n".join(lines), body)
        return cli.EXIT_ATTENTION if drift else cli.EXIT_OK

    def command() -> int:
        if args.id:
            return by_key()
        stack = cli.stack_from(args)
        writer = ProjectionWriter(cli.search_transport(stack), {}) if args.repair else None
        report = reconcile(
            dynamodb_client(stack),
            stack.table_name,
            opensearch_client(stack),
            writer,
            prefix=args.index_prefix,
            entities=cli.entities(args.entity),
            segments=args.segments,
            settle_seconds=args.settle,
            repair=args.repair,
            max_raises=args.max_raises,
        )
        cli.emit(args, report.text(), report.as_json())
        if report.raise_refused:
            print(f"RaiseLimitExceeded: {report.refusal()}", file=sys.stderr)
            return cli.EXIT_ERROR
        return cli.EXIT_ATTENTION if report.drift_count else cli.EXIT_OK

    return cli.run(command)


if __name__ == "__main__":
    sys.exit(main())
