"""What the projector's maintenance commands (`projector.indices`, `projector.purge`) share: how to reach
OpenSearch from the command line, with the same environment variables as the Lambda."""

from __future__ import annotations

import argparse
import os

from projector.transport import AUTH_MODES, Transport


def opensearch_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A parser with `--endpoint`, `--auth` and `--prefix`, defaulting to the projector's environment."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "-e", "--endpoint", default=os.environ.get("OPENSEARCH_ENDPOINT"), help="OpenSearch URL"
    )
    parser.add_argument(
        "-a",
        "--auth",
        default=os.environ.get("OPENSEARCH_AUTH", "none"),
        choices=AUTH_MODES,
        help="request signing",
    )
    parser.add_argument(
        "-p", "--prefix", default=os.environ.get("INDEX_PREFIX", ""), help="index/alias prefix"
    )
    return parser


def transport_from(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Transport:
    """The transport the parsed options name (exits with a usage error when no endpoint is given)."""
    if not args.endpoint:
        parser.error("--endpoint (or OPENSEARCH_ENDPOINT) is required")
    return Transport(args.endpoint, args.auth, os.environ.get("AWS_REGION"))
