"""Command line of the local AppSync endpoint (docs/design.md §8).

    python -m devstack.appsync serve --port P --dynamodb-endpoint URL --opensearch-endpoint URL \
        --table NAME --api-key KEY --token-secret SECRET [--tls-cert PEM --tls-key PEM]
    python -m devstack.appsync token USERNAME --token-secret SECRET
    python -m devstack.appsync tls DIR
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from devstack.appsync import ACCESS_KEY_ENV, SECRET_KEY_ENV
from devstack.appsync.app import REPO_ROOT, EndpointConfig, start_endpoint
from devstack.appsync.auth import AuthConfig, issue_token
from devstack.appsync.errors import WorkerError
from devstack.appsync.realtime import RealtimeConfig
from devstack.appsync.server import is_loopback
from devstack.appsync.tls import create_local_tls
from stackclient.stack import LOCAL_AWS_ENV


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devstack.appsync", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve GraphQL at http(s)://HOST:PORT/graphql")
    serve.add_argument("-p", "--port", type=int, default=0, help="port (0: a free one)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1); a non-loopback one needs --allow-non-loopback",
    )
    serve.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="let --host be reachable from other machines (prints a warning): local keys are no secrets",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="with --allow-non-loopback: a further Host/Origin name clients use (repeatable)",
    )
    serve.add_argument("-d", "--dynamodb-endpoint", required=True, help="DynamoDB endpoint URL (moto server)")
    serve.add_argument("-o", "--opensearch-endpoint", required=True, help="OpenSearch endpoint URL (osmem)")
    serve.add_argument("-t", "--table", required=True, help="DynamoDB table name")
    serve.add_argument("-k", "--api-key", default=None, help="accepted x-api-key (omit: API key auth off)")
    serve.add_argument("-s", "--token-secret", required=True, help="secret that signs local user-pool tokens")
    serve.add_argument("-r", "--region", default=LOCAL_AWS_ENV["AWS_REGION"], help="AWS region")
    serve.add_argument("--schema-dir", type=Path, default=REPO_ROOT / "schema", help="folder of *.graphql")
    serve.add_argument(
        "--resolvers-dir", type=Path, default=REPO_ROOT / "resolvers", help="resolvers + manifest"
    )
    serve.add_argument(
        "--tls-cert",
        type=Path,
        default=None,
        help="server certificate chain (PEM): serve https:// and wss://",
    )
    serve.add_argument("--tls-key", type=Path, default=None, help="the certificate's private key (PEM)")
    serve.add_argument(
        "--keepalive-interval", type=float, default=60.0, help="seconds between real-time `ka` messages"
    )
    tls = commands.add_parser("tls", help="make a new local CA and server certificate in DIR")
    tls.add_argument("directory", type=Path, help="where ca.pem, server-cert.pem and server-key.pem go")
    token = commands.add_parser("token", help="print a local user-pool token for USERNAME")
    token.add_argument("username", help="the user's name (its `sub` is derived from it)")
    token.add_argument("-s", "--token-secret", required=True, help="the secret the server was started with")
    return parser


_WILDCARDS = ("0.0.0.0", "::", "")


def _iam_credentials() -> dict[str, str]:
    """The accepted IAM key: the stack's pair when given, else the process's own AWS credentials (a hand
    run; the tests); never a key every checkout knows unless that is what the process was given."""
    if os.environ.get(ACCESS_KEY_ENV) and os.environ.get(SECRET_KEY_ENV):
        return {os.environ[ACCESS_KEY_ENV]: os.environ[SECRET_KEY_ENV]}
    return {
        os.environ.get("AWS_ACCESS_KEY_ID", LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"]): os.environ.get(
            "AWS_SECRET_ACCESS_KEY", LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"]
        )
    }


def _extra_hosts(args: argparse.Namespace) -> tuple[str, ...]:
    """Names besides the loopback the endpoint answers to; a non-loopback bind needs the flag."""
    if is_loopback(args.host):
        if args.allowed_host:
            raise ValueError("--allowed-host needs --allow-non-loopback")
        return ()
    if not args.allow_non_loopback:
        raise ValueError(
            f"--host {args.host} is not a loopback address: the local endpoint's keys and tokens are not "
            "secrets, so it is reachable from other machines only with --allow-non-loopback"
        )
    print(
        f"WARNING: serving on {args.host or '*'}: any machine that can reach it may call the local endpoint; "
        "its API key, token secret and IAM keys protect nothing of value",
        file=sys.stderr,
        flush=True,
    )
    bound = () if args.host in _WILDCARDS else (args.host,)
    return (*bound, *args.allowed_host)


def _serve(args: argparse.Namespace) -> int:
    if (args.tls_cert is None) != (args.tls_key is None):
        raise ValueError("--tls-cert and --tls-key go together")
    extra_hosts = _extra_hosts(args)
    # IAM callers sign with the local stack's credentials (docs/design.md §8).
    iam = _iam_credentials()
    config = EndpointConfig(
        dynamodb_endpoint=args.dynamodb_endpoint,
        opensearch_endpoint=args.opensearch_endpoint,
        table=args.table,
        auth=AuthConfig(token_secret=args.token_secret, api_key=args.api_key, iam_credentials=iam),
        region=args.region,
        host=args.host,
        port=args.port,
        schema_dir=args.schema_dir,
        resolvers_dir=args.resolvers_dir,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        realtime=RealtimeConfig(keepalive_s=args.keepalive_interval),
        extra_hosts=extra_hosts,
    )
    endpoint = start_endpoint(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(json.dumps({"url": endpoint.url}), flush=True)
    stop.wait()
    endpoint.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "token":
        print(issue_token(args.username, args.token_secret))
        return 0
    if args.command == "tls":
        made = create_local_tls(args.directory)
        files = {"ca_file": made.ca_file, "cert_file": made.cert_file, "key_file": made.key_file}
        print(json.dumps({**{k: str(v) for k, v in files.items()}, "tls_spki_sha256": made.spki_sha256}))
        return 0
    try:
        return _serve(args)
    except (OSError, ValueError, WorkerError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
