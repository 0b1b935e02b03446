"""Find a stack's endpoints and build clients for it.

A stack is described by the keys of docs/design.md §6. The local stack writes them to `.dev/stack.json`;
a deployed stack has them as Terraform root outputs (`terraform output -json`). Either way the result is
one :class:`Stack`, and the client factories below point boto3 and OpenSearch at the right place:
moto's endpoint and no signing locally, the regional AWS endpoints and SigV4 when deployed.

Example
-------
>>> stack = find_stack()                       # .dev/stack.json of this checkout
>>> stack = find_stack(terraform_dir="terraform/envs/prod")
>>> dynamodb_client(stack).describe_table(TableName=stack.table_name)
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.credentials import Credentials

from stackclient.errors import StackConfigError, StackNotFoundError

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

SearchAuth = Literal["none", "sigv4", "sigv4-aoss"]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STACK_FILE = REPO_ROOT / ".dev" / "stack.json"

# Credentials moto accepts, and its region: never real ones. The local stack's processes run with them,
# and a client of the local stack signs with them.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}

_REQUIRED = ("region", "table_name", "search_endpoint", "dead_letter_queue_url")

# Standard retry mode backs off on throttling; a wide pool serves a parallel scan's threads.
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, max_pool_connections=32)


@dataclass(frozen=True)
class Stack:
    """Where one stack's parts are (docs/design.md §6)."""

    region: str
    table_name: str
    search_endpoint: str
    dead_letter_queue_url: str
    on_failure_queue_url: str | None = None
    graphql_url: str | None = None
    auth: Mapping[str, Any] = field(default_factory=dict)
    # Local stack only: where moto answers (None means the regional AWS endpoint).
    dynamodb_endpoint: str | None = None
    sqs_endpoint: str | None = None
    # Local stack only: the CA its endpoint's https certificate comes from (None: the system's CAs).
    ca_file: str | None = None
    # Local stack only: the IAM key pair made for this stack, the one its endpoint accepts.
    iam_credentials: tuple[str, str] | None = None
    search_auth: SearchAuth = "sigv4"
    source: str = ""

    @property
    def is_local(self) -> bool:
        return self.dynamodb_endpoint is not None


def infer_search_auth(endpoint: str) -> SearchAuth:
    """How to sign requests to an OpenSearch endpoint, read from its URL.

    Plain `http://` (the local osmem) is unsigned; `*.aoss.amazonaws.com` is OpenSearch Serverless
    (SigV4 service `aoss`); anything else over https is a managed domain (SigV4 service `es`).
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StackConfigError(f"search_endpoint {endpoint!r} is not an http(s) URL")
    if parts.scheme == "http":
        return "none"
    if parts.hostname.endswith(".aoss.amazonaws.com"):
        return "sigv4-aoss"
    return "sigv4"


def stack_from_mapping(values: Mapping[str, Any], source: str) -> Stack:
    """Build a :class:`Stack` from the §6 keys; raise StackConfigError naming what is missing."""
    missing = [key for key in _REQUIRED if not values.get(key)]
    if missing:
        raise StackConfigError(f"{source} lacks {', '.join(missing)} (keys: docs/design.md §6)")
    auth = values.get("auth") or {}
    if not isinstance(auth, Mapping):
        raise StackConfigError(f"{source}: auth must be an object, got {type(auth).__name__}")
    endpoint = str(values["search_endpoint"]).rstrip("/")
    keys = auth.get("iam_credentials")
    iam_credentials = None
    if keys is not None:
        if (
            not isinstance(keys, Mapping)
            or not keys.get("access_key_id")
            or not keys.get("secret_access_key")
        ):
            raise StackConfigError(
                f"{source}: auth.iam_credentials needs access_key_id and secret_access_key"
            )
        iam_credentials = (str(keys["access_key_id"]), str(keys["secret_access_key"]))
    return Stack(
        region=str(values["region"]),
        table_name=str(values["table_name"]),
        search_endpoint=endpoint,
        dead_letter_queue_url=str(values["dead_letter_queue_url"]),
        on_failure_queue_url=values.get("on_failure_queue_url") or None,
        graphql_url=values.get("graphql_url") or None,
        auth=dict(auth),
        dynamodb_endpoint=values.get("dynamodb_endpoint") or None,
        sqs_endpoint=values.get("sqs_endpoint") or None,
        ca_file=values.get("ca_file") or None,
        iam_credentials=iam_credentials,
        search_auth=infer_search_auth(endpoint),
        source=source,
    )


def load_stack_file(path: str | Path = DEFAULT_STACK_FILE) -> Stack:
    """Read a local stack's `.dev/stack.json`."""
    path = Path(path)
    try:
        values = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise StackNotFoundError(
            f"{path} does not exist: start the local stack (make demo) or pass --terraform-dir"
        ) from exc
    except json.JSONDecodeError as exc:
        raise StackConfigError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise StackConfigError(f"{path} must hold a JSON object")
    return stack_from_mapping(values, str(path))


def terraform_outputs_to_values(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten `terraform output -json` (`{name: {"value": v, "type": t, ...}}`) to `{name: v}`."""
    values: dict[str, Any] = {}
    for name, output in outputs.items():
        if not isinstance(output, Mapping) or "value" not in output:
            raise StackConfigError(f"terraform output {name!r} has no 'value' (not `output -json`?)")
        values[name] = output["value"]
    return values


def terraform_output_values(directory: str | Path, terraform: str = "terraform") -> dict[str, Any]:
    """Every root output of a deployed stack, as `{name: value}` (runs `terraform output -json`)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise StackNotFoundError(f"Terraform directory {directory} does not exist")
    binary = shutil.which(terraform)
    if binary is None:
        raise StackNotFoundError(f"{terraform!r} is not on PATH: install Terraform or use --stack-file")
    result = subprocess.run(
        [binary, f"-chdir={directory}", "output", "-json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackNotFoundError(f"terraform output failed in {directory}: {result.stderr.strip()}")
    try:
        outputs = json.loads(result.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise StackConfigError(f"terraform output -json in {directory} printed no JSON: {exc}") from exc
    if not outputs:
        raise StackNotFoundError(f"{directory} has no Terraform outputs: has it been applied?")
    if not isinstance(outputs, Mapping):
        raise StackConfigError(f"terraform output -json in {directory} printed no object")
    return terraform_outputs_to_values(outputs)


def load_terraform_outputs(directory: str | Path, terraform: str = "terraform") -> Stack:
    """Run `terraform output -json` in a deployed stack's root module directory."""
    values = terraform_output_values(directory, terraform)
    return stack_from_mapping(values, f"terraform outputs of {directory}")


def find_stack(stack_file: str | Path | None = None, terraform_dir: str | Path | None = None) -> Stack:
    """The stack to operate on: Terraform outputs if a directory is given, else a stack.json."""
    if stack_file is not None and terraform_dir is not None:
        raise StackConfigError("give either a stack file or a Terraform directory, not both")
    if terraform_dir is not None:
        return load_terraform_outputs(terraform_dir)
    return load_stack_file(stack_file if stack_file is not None else DEFAULT_STACK_FILE)


# ---------------------------------------------------------------------------------------------- clients


def _session(stack: Stack) -> boto3.session.Session:
    """Standard credentials for a deployed stack; the local stack's fixed fake ones for moto."""
    if not stack.is_local:
        return boto3.session.Session()
    return boto3.session.Session(
        aws_access_key_id=LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=LOCAL_AWS_ENV["AWS_SESSION_TOKEN"],
    )


def graphql_credentials(stack: Stack) -> Credentials | None:
    """What IAM calls to the stack's API sign with: the local stack's own key pair (made per stack, so a
    key every checkout knows opens nothing), or None for a deployed stack (boto3's credential chain)."""
    if stack.iam_credentials is None:
        return None
    return Credentials(*stack.iam_credentials)


def _client(stack: Stack, service: str, endpoint: str | None) -> Any:
    return _session(stack).client(
        service, region_name=stack.region, endpoint_url=endpoint, config=_BOTO_CONFIG
    )


def dynamodb_client(stack: Stack) -> Any:
    """A boto3 DynamoDB client for the stack's table."""
    return _client(stack, "dynamodb", stack.dynamodb_endpoint)


def streams_client(stack: Stack) -> Any:
    """A boto3 DynamoDB Streams client (moto serves Streams on its DynamoDB endpoint)."""
    return _client(stack, "dynamodbstreams", stack.dynamodb_endpoint)


def sqs_client(stack: Stack) -> Any:
    """A boto3 SQS client for the dead-letter and on-failure queues."""
    return _client(stack, "sqs", stack.sqs_endpoint)


def opensearch_client(stack: Stack, timeout: float = 30.0) -> OpenSearch:
    """An opensearch-py client: unsigned locally, SigV4 (`es` or `aoss`) when deployed."""
    from opensearchpy import OpenSearch, RequestsAWSV4SignerAuth, RequestsHttpConnection

    auth: RequestsAWSV4SignerAuth | None = None
    if stack.search_auth != "none":
        credentials = boto3.session.Session().get_credentials()
        if credentials is None:
            raise StackConfigError("no AWS credentials found to sign OpenSearch requests")
        service = "aoss" if stack.search_auth == "sigv4-aoss" else "es"
        auth = RequestsAWSV4SignerAuth(credentials, stack.region, service)
    return OpenSearch(
        hosts=[stack.search_endpoint],
        http_auth=auth,
        connection_class=RequestsHttpConnection,
        timeout=timeout,
        max_retries=3,
        retry_on_status=(429, 502, 503, 504),
        retry_on_timeout=True,
    )
