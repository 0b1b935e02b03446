"""Wires the endpoint together: schema + manifest + Node worker + data sources + HTTP server."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from devstack.appsync.auth import AuthConfig
from devstack.appsync.datasources import DataSource, NoneDataSource
from devstack.appsync.datasources.dynamodb import DynamoDBDataSource
from devstack.appsync.datasources.opensearch import OpenSearchDataSource
from devstack.appsync.execution import GraphQLApp, install_resolvers
from devstack.appsync.manifest import ManifestError, load_manifest
from devstack.appsync.pipeline import Executor
from devstack.appsync.realtime import RealtimeConfig, RealtimeHub
from devstack.appsync.schema import load_schema
from devstack.appsync.server import AppSyncServer, build_app
from devstack.appsync.worker import NodeWorker
from projector.names import INDEX_FAMILIES

REPO_ROOT = Path(__file__).resolve().parents[2]
RESOLVERS_DIR_DEFAULT = REPO_ROOT / "resolvers"
# docs/design.md §4: searches only ever use the read aliases (terraform/definitions/indices.json).
READ_ALIASES = tuple(family.read_alias for family in INDEX_FAMILIES.values())


@dataclass(frozen=True)
class EndpointConfig:
    dynamodb_endpoint: str
    opensearch_endpoint: str
    table: str
    auth: AuthConfig
    region: str = "us-east-1"
    host: str = "127.0.0.1"
    port: int = 0
    schema_dir: Path = REPO_ROOT / "schema"
    resolvers_dir: Path = RESOLVERS_DIR_DEFAULT
    # Both set: serve https:// and wss:// (devstack/appsync/tls.py); neither: plain http://.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    realtime: RealtimeConfig = field(default_factory=RealtimeConfig)
    # Host names besides the loopback that requests may carry in Host/Origin (`serve --allow-non-loopback`).
    extra_hosts: tuple[str, ...] = ()


@dataclass
class Endpoint:
    """A running endpoint; `close()` stops the HTTP server and the Node worker."""

    server: AppSyncServer
    worker: NodeWorker
    hub: RealtimeHub

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.shutdown()
        self.worker.close()


def _data_sources(config: EndpointConfig, types: dict[str, str]) -> dict[str, DataSource]:
    # A stand-in that is down fails a request quickly (connect timeout), but a request moto received is
    # waited for and never re-sent: moto runs a transaction on a copy of the table and puts that copy back
    # when it is cancelled, so one still running after the client gave up (and let the next write through
    # the data source's lock) would undo that write. moto's transactions slow down as the stream grows.
    retries = Config(
        retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=120
    )
    client: Any = boto3.client(
        "dynamodb", endpoint_url=config.dynamodb_endpoint, region_name=config.region, config=retries
    )
    sources: dict[str, DataSource] = {}
    for name, kind in types.items():
        if kind == "AMAZON_DYNAMODB":
            # Data sources named like `queries` get a read-only role (docs/design.md §7).
            sources[name] = DynamoDBDataSource(client, config.table, read_only=name == "queries")
        elif kind == "AMAZON_OPENSEARCH_SERVICE":
            sources[name] = OpenSearchDataSource(config.opensearch_endpoint, READ_ALIASES)
        elif kind == "NONE":
            sources[name] = NoneDataSource()
        else:
            raise ValueError(f"data source {name}: type {kind} is not supported by the local endpoint")
    return sources


def resolver_environment(table: str, iam_caller_roles: str) -> dict[str, str]:
    """The resolvers' ``ctx.env``, as the api module sets it (terraform/modules/api/main.tf): the table,
    each index family's read alias as ``<FAMILY>_READ_ALIAS`` (from terraform/definitions/indices.json),
    and the IAM callers' allow-list (``AuthConfig.iam_caller_roles()``, the local backend role).
    """
    aliases = {f"{family.family.upper()}_READ_ALIAS": family.read_alias for family in INDEX_FAMILIES.values()}
    return {"TABLE_NAME": table, **aliases, "IAM_CALLER_ROLES": iam_caller_roles}


def start_endpoint(config: EndpointConfig) -> Endpoint:
    """Build and start the endpoint on a background thread (port 0 picks a free port)."""
    schema = load_schema(config.schema_dir)
    manifest = load_manifest(config.resolvers_dir)
    worker = NodeWorker()
    try:
        executor = Executor(worker, _data_sources(config, manifest.data_sources))
        env = resolver_environment(config.table, config.auth.iam_caller_roles())
        missing = sorted(set(manifest.environment_variables) - set(env))
        if missing:
            raise ManifestError(f"the manifest declares environment variables the endpoint lacks: {missing}")
        install_resolvers(schema, manifest, executor, env)
        graphql = GraphQLApp(schema, config.auth)
        hub = RealtimeHub(graphql, config.realtime)
        graphql.publisher = hub.publish
        tls = config.tls_cert is not None and config.tls_key is not None
        server = AppSyncServer(
            (config.host, config.port),
            build_app(graphql, hub.routes),
            scheme="https" if tls else "http",
            ssl_certfile=str(config.tls_cert) if tls else None,
            ssl_keyfile=str(config.tls_key) if tls else None,
            extra_hosts=config.extra_hosts,
        )
        server.start_background(on_loop=hub.start)
    except BaseException:
        worker.close()
        raise
    return Endpoint(server, worker, hub)
