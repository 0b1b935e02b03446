"""Smoke-test a stack: a canary listing through the API into search and out again, then reconciled.

    python scripts/smoke.py                             # the local stack (.dev/stack.json)
    python scripts/smoke.py --terraform-dir terraform   # a deployed stack, with the caller's AWS credentials
    python scripts/smoke.py --timeout 120 --json

Writes go through AppSync as a backend (IAM, SigV4), under the reserved owner `appsync-cqrs-smoke`; the
reconcile step reads the table and the indices directly, so the caller needs `dynamodb:GetItem` on the
table and read access to the entity indices (on a domain: a fine-grained-access role mapping). One line
per step with its time; a canary left by a failed run is removed by the next. Steps and their checks:
ops/smoke.py.

Exit codes: 0 every step passed; 1 a step failed (named on its line); 2 the test could not run (no stack
description, no credentials, an endpoint that cannot be reached).
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
from opensearchpy.exceptions import ConnectionError as SearchUnreachable
from opensearchpy.exceptions import OpenSearchException

from ops import cli
from ops.errors import OpsError
from ops.reconcile import reconcile_key
from ops.smoke import EXIT_CANNOT_RUN, SmokeTest, describe_drift, print_json
from stackclient.errors import EndpointUnreachable, GraphQLClientError, StackClientError, StackConfigError
from stackclient.graphql import GraphQLClient
from stackclient.stack import LOCAL_AWS_ENV, dynamodb_client, graphql_credentials, opensearch_client


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("smoke.py", __doc__.splitlines()[0])
    parser.add_argument(
        "-w",
        "--timeout",
        type=float,
        default=60.0,
        help="seconds each wait for search may take (default 60)",
    )
    args = parser.parse_args(argv)
    try:
        stack = cli.stack_from(args)
        if stack.is_local:
            os.environ.update(LOCAL_AWS_ENV)  # moto's fake credentials, never real ones
        if not stack.graphql_url:
            raise StackConfigError(
                f"{stack.source} has no graphql_url: the smoke test writes through the API"
            )
        api = GraphQLClient(
            stack.graphql_url,
            region=stack.region,
            auth="iam",
            ca_file=stack.ca_file,
            credentials=graphql_credentials(stack),
        )
        dynamodb, search = dynamodb_client(stack), opensearch_client(stack)
    except (OpsError, StackClientError, BotoCoreError) as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    listing = cli.entities(["listings"])[0]
    out = sys.stderr if args.json else sys.stdout
    print(f"smoke test of {stack.source}: {stack.graphql_url}", file=out, flush=True)

    def check_key(doc_id: str) -> list[str]:
        checks = reconcile_key(dynamodb, stack.table_name, search, listing, doc_id, prefix=args.index_prefix)
        return describe_drift(checks)

    smoke = SmokeTest(
        api,
        check_key,
        unreachable=(EndpointUnreachable, EndpointConnectionError, NoCredentialsError, SearchUnreachable),
        failures=(GraphQLClientError, ClientError, BotoCoreError, OpenSearchException, LookupError),
        timeout_s=args.timeout,
        out=out,
    )
    try:
        report = smoke.run()
    except Exception:  # a fault of the smoke test itself, not of the stack: never mistaken for exit 1
        traceback.print_exc()
        return EXIT_CANNOT_RUN
    if args.json:
        print_json(report)
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
