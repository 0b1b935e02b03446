"""What the four ops commands share: how to find the stack, the clients, and how errors end a command.

Exit codes: 0 done and clean; 1 done, but something needs attention (drift found, rejects, messages
left in the queue); 2 the command could not do its job (printed as ``Type: message``) or bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from opensearchpy.exceptions import OpenSearchException

from ops.errors import OpsError
from ops.writer import transport_for
from projector.entities import ENTITIES, Entity
from projector.exceptions import ProjectorError
from projector.transport import Transport
from stackclient.errors import StackClientError
from stackclient.stack import Stack, find_stack

EXIT_OK, EXIT_ATTENTION, EXIT_ERROR = 0, 1, 2
# What a command can meet and report as `Type: message`: its own errors, finding the stack, the
# projector's conversion and writes, AWS and OpenSearch.
REPORTED_ERRORS = (
    OpsError,
    StackClientError,
    ProjectorError,
    ClientError,
    BotoCoreError,
    OpenSearchException,
)


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the stack options every command takes."""
    result = argparse.ArgumentParser(prog=prog, description=description)
    where = result.add_mutually_exclusive_group()
    where.add_argument(
        "-s", "--stack-file", help="a local stack's stack.json (default: .dev/stack.json of this checkout)"
    )
    where.add_argument(
        "-t",
        "--terraform-dir",
        help="a deployed stack's Terraform root module (runs `terraform output -json`)",
    )
    result.add_argument(
        "-p",
        "--index-prefix",
        default=os.environ.get("INDEX_PREFIX", ""),
        help="prefix of every index and alias name, as the projector's INDEX_PREFIX (default: none)",
    )
    result.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    return result


def entity_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-e",
        "--entity",
        choices=[entity.base for entity in ENTITIES],
        action="append",
        help="entity index family (repeatable; default: all)",
    )


def entities(selected: list[str] | None) -> list[Entity]:
    return [entity for entity in ENTITIES if not selected or entity.base in selected]


def stack_from(args: argparse.Namespace) -> Stack:
    return find_stack(stack_file=args.stack_file, terraform_dir=args.terraform_dir)


def search_transport(stack: Stack, connections: int = 8) -> Transport:
    return transport_for(stack.search_endpoint, stack.search_auth, stack.region, connections)


def emit(args: argparse.Namespace, text: str, body: dict[str, Any]) -> None:
    """The summary: JSON on stdout with --json, else the readable text."""
    if args.json:
        print(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        print(text)


def run(command: Callable[[], int]) -> int:
    """Run a command; turn the errors it can meet into `Type: message` and exit code 2."""
    try:
        return command()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except REPORTED_ERRORS as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR
