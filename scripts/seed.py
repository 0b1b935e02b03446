"""Seed a stack with the fixture listings and reviews (scripts/fixtures/*.jsonl).

    .venv/bin/python scripts/seed.py                       # the local stack, through GraphQL (IAM)
    .venv/bin/python scripts/seed.py --direct              # batch writes straight into DynamoDB
    .venv/bin/python scripts/seed.py --terraform-dir terraform/envs/dev   # a deployed stack

Exit codes: 0 all rows loaded (or already there), 1 some rows were bad (the rest loaded) or seeding
could not run; errors print as `Type: message`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from botocore.exceptions import BotoCoreError, ClientError

from stackclient.errors import SeedError, StackClientError
from stackclient.graphql import GraphQLClient
from stackclient.seed import FIXTURES_DIR, DirectWriter, GraphQLWriter, Writer, seed
from stackclient.stack import LOCAL_AWS_ENV, Stack, dynamodb_client, find_stack, graphql_credentials


def make_writer(stack: Stack, direct: bool, concurrency: int) -> Writer:
    if direct:
        return DirectWriter(dynamodb_client(stack), stack.table_name)
    if not stack.graphql_url:
        raise SeedError(f"{stack.source} has no graphql_url: use --direct, or start the AppSync endpoint")
    return GraphQLWriter(
        GraphQLClient(
            stack.graphql_url,
            region=stack.region,
            auth="iam",
            ca_file=stack.ca_file,
            credentials=graphql_credentials(stack),
        ),
        concurrency,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="seed.py", description="Seed a stack with the fixture data set.")
    parser.add_argument("-d", "--direct", action="store_true", help="write DynamoDB directly (batch writes)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("-s", "--stack-file", type=Path, help="a stack.json (default: .dev/stack.json)")
    target.add_argument("-t", "--terraform-dir", type=Path, help="a deployed root module (terraform output)")
    parser.add_argument(
        "-l", "--listings", type=Path, default=FIXTURES_DIR / "listings.jsonl", help="JSON lines"
    )
    parser.add_argument(
        "-r", "--reviews", type=Path, default=FIXTURES_DIR / "reviews.jsonl", help="JSON lines"
    )
    parser.add_argument("-n", "--limit", type=int, help="only the first N listings (and their reviews)")
    parser.add_argument("-c", "--concurrency", type=int, default=8, help="parallel GraphQL requests")
    args = parser.parse_args(argv)
    try:
        stack = find_stack(args.stack_file, args.terraform_dir)
        if stack.is_local:
            os.environ.update(LOCAL_AWS_ENV)  # moto's fake credentials, never real ones
        writer = make_writer(stack, args.direct, args.concurrency)
        if stack.is_local and not args.direct and args.limit is None:
            print(
                "tip: on the local stack --direct loads the whole set in seconds (see README 'Seeding')",
                file=sys.stderr,
            )
        print(
            f"seeding {stack.source} ({'DynamoDB directly' if args.direct else stack.graphql_url})",
            file=sys.stderr,
        )
        listings, reviews = seed(writer, args.listings, args.reviews, limit=args.limit)
    except (StackClientError, BotoCoreError, ClientError, OSError) as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    for name, report in (("listings", listings), ("reviews", reviews)):
        print(f"{name}: {report.written} written, {report.existing} already there, {len(report.bad)} bad")
    for problem in listings.bad + reviews.bad:
        print(f"  bad row {problem}", file=sys.stderr)
    return 1 if listings.bad or reviews.bad else 0


if __name__ == "__main__":
    sys.exit(main())
