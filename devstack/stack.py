"""The whole local stack: moto, osmem, the local AppSync endpoint and the stream poller, supervised.

`LocalStack.start()` starts every part as a child process on free ports, creates the table, queues,
indices and aliases, and writes `.dev/stack.json` (docs/design.md §6). `supervise()` then watches the
children: a crash of any of them stops all of them with a message naming the culprit and its log; a
SIGINT/SIGTERM stops them cleanly. Logs go to `.dev/logs/<child>.log`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from devstack.appsync import ACCESS_KEY_ENV, SECRET_KEY_ENV
from devstack.appsync.tls import LocalTLS, create_local_tls
from devstack.resources import TABLE_NAME, Resources, create_resources
from devstack.servers import ChildServer, ServerStartError, free_port, start_moto, start_osmem
from stackclient.stack import LOCAL_AWS_ENV

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE_DIR = REPO_ROOT / ".dev"
REGION = LOCAL_AWS_ENV["AWS_REGION"]


class StackError(RuntimeError):
    """The local stack could not start, or a part of it failed."""


@dataclass
class StackOptions:
    state_dir: Path = DEFAULT_STATE_DIR
    poll_interval_s: float = 0.05
    appsync: bool = True
    handler: str = "projector.handler.lambda_handler"
    start_timeout_s: float = 60.0
    poller_args: tuple[str, ...] = ()
    """More `python -m devstack.poller` options, e.g. `("--function-timeout", "6")` for a soak."""


def projector_env(search_endpoint: str, aws_endpoint: str, dead_letter_queue_url: str) -> dict[str, str]:
    """The projector's environment (docs/design.md §5) pointed at the local servers."""
    return {
        **LOCAL_AWS_ENV,
        "OPENSEARCH_ENDPOINT": search_endpoint,
        "OPENSEARCH_AUTH": "none",
        "DEAD_LETTER_QUEUE_URL": dead_letter_queue_url,
        # boto3 sends every AWS call (the projector's SQS writes) to moto.
        "AWS_ENDPOINT_URL": aws_endpoint,
        "POWERTOOLS_SERVICE_NAME": "projector",
        "POWERTOOLS_METRICS_NAMESPACE": "appsync-cqrs-local",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
    }


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Spawned:
    """A started child and where its stdout log stood when it started (logs are appended to)."""

    process: subprocess.Popen[bytes]
    out_offset: int


def spawn_child(name: str, argv: list[str], env: Mapping[str, str], log_dir: Path) -> Spawned:
    """Start `argv` with its stdout appended to `.dev/logs/<name>.out` and its stderr to `<name>.log`."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{name}.out").open("ab") as out, (log_dir / f"{name}.log").open("ab") as err:
        offset = out.tell()
        process = subprocess.Popen(argv, stdout=out, stderr=err, env={**os.environ, **env}, cwd=REPO_ROOT)
    return Spawned(process, offset)


def wait_ready(
    name: str, spawned: Spawned, log_dir: Path, timeout_s: float
) -> tuple[ChildServer, dict[str, Any]]:
    """Wait for the child's first JSON line on stdout (its "ready" message)."""
    out_path, err_path = log_dir / f"{name}.out", log_dir / f"{name}.log"
    process = spawned.process
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with out_path.open("rb") as out:
            out.seek(spawned.out_offset)
            lines = out.read().decode(errors="replace").splitlines()
        for line in lines:
            with contextlib.suppress(json.JSONDecodeError):
                ready = json.loads(line)
                if isinstance(ready, dict):
                    return ChildServer(name, str(ready.get("url", "")), process), ready
        if process.poll() is not None:
            code = process.returncode
            raise StackError(
                f"{name} exited during start-up with code {code}; {err_path}:\n{_tail(err_path)}"
            )
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise StackError(f"{name} was not ready within {timeout_s:.0f} s; {err_path}:\n{_tail(err_path)}")


@dataclass
class LocalStack:
    options: StackOptions = field(default_factory=StackOptions)
    children: dict[str, ChildServer] = field(default_factory=dict)
    resources: Resources | None = None
    info: dict[str, Any] = field(default_factory=dict)
    signal: tuple[str, str] | None = None
    """The GraphQL URL and CA file the poller's projector publishes its projection signal to."""
    iam_keys: dict[str, str] = field(default_factory=dict)
    """The stack's backend key pair (the one IAM identity its endpoint accepts)."""
    projector_search_endpoint: str | None = None
    """Where the poller's projector sends OpenSearch requests (None: osmem itself). A soak sets a fault
    proxy in front of osmem here, then `start_poller()`; search and the ops tools still read osmem."""
    _stopping: bool = False

    @property
    def stack_file(self) -> Path:
        return self.options.state_dir / "stack.json"

    @property
    def checkpoint_file(self) -> Path:
        return self.options.state_dir / "poller-checkpoint.json"

    @property
    def cascade_checkpoint_file(self) -> Path:
        """The review cascade's own position in the stream (a second consumer, like its own mapping)."""
        return self.options.state_dir / "cascade-checkpoint.json"

    @property
    def log_dir(self) -> Path:
        return self.options.state_dir / "logs"

    @property
    def tls_dir(self) -> Path:
        return self.options.state_dir / "tls"

    def start(self) -> dict[str, Any]:
        """Start every part and write `stack.json`; on any failure stop what started and raise StackError."""
        self.options.state_dir.mkdir(parents=True, exist_ok=True)
        # A new moto has a new stream: an old checkpoint would name a stream that no longer exists.
        self.checkpoint_file.unlink(missing_ok=True)
        self.cascade_checkpoint_file.unlink(missing_ok=True)
        for old_log in [*self.log_dir.glob("*.log"), *self.log_dir.glob("*.out")]:
            old_log.unlink()  # a restarted child appends to its logs; a new stack starts them afresh
        try:
            self._start()
        except (ServerStartError, StackError, subprocess.SubprocessError, OSError) as error:
            self.stop()
            raise StackError(str(error)) from error
        except BaseException:
            self.stop()
            raise
        return self.info

    def _start(self) -> None:
        moto = self.children["moto"] = start_moto()
        osmem = self.children["osmem"] = start_osmem()
        api_key = "local-" + secrets.token_hex(12)
        token_secret = secrets.token_hex(24)
        # IAM callers' key pair, made for this stack like the API key: the endpoint accepts no other, so
        # moto's well-known "testing" key does not open it (stackclient.stack.graphql_credentials reads it).
        iam_keys = {
            "access_key_id": "AKIALOCAL" + secrets.token_hex(6).upper()[:11],
            "secret_access_key": secrets.token_urlsafe(30),
        }
        # A new CA for every stack: nothing trusts a key that outlives the stack it was made for.
        tls = create_local_tls(self.tls_dir)
        # The endpoint boots (Node worker, schema) while the table, queues and indices are made.
        port = free_port()
        appsync = (
            self._spawn_appsync(api_key, token_secret, tls, iam_keys, port) if self.options.appsync else None
        )
        self.resources = create_resources(moto.url, REGION)
        self._ensure_indices(osmem.url)
        # The projector publishes its projection signal to the local endpoint, as it does to AppSync.
        self.signal = (f"https://127.0.0.1:{port}/graphql", str(tls.ca_file)) if appsync is not None else None
        self.iam_keys = iam_keys
        poller = self._spawn_poller()
        graphql_url = None
        if appsync is not None:
            child, ready = wait_ready("appsync", appsync, self.log_dir, self.options.start_timeout_s)
            self.children["appsync"] = child
            graphql_url = str(ready["url"])
        self.children["poller"], _ = wait_ready("poller", poller, self.log_dir, self.options.start_timeout_s)
        self.info = {
            # https, as on AWS: Amplify opens subscriptions on wss://<host>/graphql/realtime.
            "graphql_url": graphql_url,
            "region": REGION,
            "auth": {
                "api_key": api_key,
                "user_pool_id": None,
                "user_pool_client_id": None,
                "iam": True,
                "iam_credentials": iam_keys if graphql_url else None,
            },
            "table_name": self.resources.table_name,
            "search_endpoint": osmem.url,
            "dead_letter_queue_url": self.resources.dead_letter_queue_url,
            "on_failure_queue_url": self.resources.on_failure_queue_url,
            "dynamodb_endpoint": moto.url,
            "sqs_endpoint": moto.url,
            # Append the username: prints a local user-pool token for the Authorization header.
            "token_command": [
                sys.executable,
                "-m",
                "devstack.appsync",
                "token",
                "--token-secret",
                token_secret,
            ],
            "stream_arn": self.resources.stream_arn,
            "poll_interval_s": self.options.poll_interval_s,
            "logs": str(self.log_dir),
            "ca_file": str(tls.ca_file) if graphql_url else None,
            "tls_spki_sha256": tls.spki_sha256 if graphql_url else None,
        }
        self.write_stack_file()

    def _ensure_indices(self, search_endpoint: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "projector.indices", "--endpoint", search_endpoint, "--auth", "none"],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            raise StackError(f"creating indices failed: {result.stderr.strip() or result.stdout.strip()}")

    def _spawn_appsync(
        self, api_key: str, token_secret: str, tls: LocalTLS, iam_keys: dict[str, str], port: int
    ) -> Spawned:
        argv = [
            sys.executable, "-m", "devstack.appsync", "serve",
            "--port", str(port),
            "--dynamodb-endpoint", self.children["moto"].url,
            "--opensearch-endpoint", self.children["osmem"].url,
            "--table", TABLE_NAME,
            "--api-key", api_key,
            "--token-secret", token_secret,
            "--tls-cert", str(tls.cert_file),
            "--tls-key", str(tls.key_file),
        ]  # fmt: skip
        # The key pair goes in the environment, not argv (any local user can read a command line).
        keys = {ACCESS_KEY_ENV: iam_keys["access_key_id"], SECRET_KEY_ENV: iam_keys["secret_access_key"]}
        spawned = spawn_child("appsync", argv, {**LOCAL_AWS_ENV, **keys}, self.log_dir)
        self.children["appsync"] = ChildServer(
            "appsync", "", spawned.process
        )  # stopped with the rest on failure
        return spawned

    def _spawn_poller(self) -> Spawned:
        assert self.resources is not None
        moto, osmem = self.children["moto"], self.children["osmem"]
        argv = [
            sys.executable, "-m", "devstack.poller",
            "--endpoint", moto.url,
            "--table", self.resources.table_name,
            "--checkpoint", str(self.checkpoint_file),
            "--on-failure-queue-url", self.resources.on_failure_queue_url,
            "--region", REGION,
            "--poll-interval", str(self.options.poll_interval_s),
            "--handler", self.options.handler,
            # The review cascade (projector/cascade.py) reads the same stream, as on AWS.
            "--cascade-handler", "projector.cascade.lambda_handler",
            "--cascade-checkpoint", str(self.cascade_checkpoint_file),
            *self.options.poller_args,
        ]  # fmt: skip
        env = {
            **projector_env(
                self.projector_search_endpoint or osmem.url, moto.url, self.resources.dead_letter_queue_url
            ),
            "TABLE_NAME": self.resources.table_name,
        }
        if self.signal is not None:
            env["PROJECTION_SIGNAL_URL"], env["PROJECTION_SIGNAL_CA_FILE"] = self.signal
            # Signed with the stack's backend key pair, the one IAM identity the endpoint accepts (moto
            # takes any key, so the poller's other calls are unaffected).
            env["AWS_ACCESS_KEY_ID"] = self.iam_keys["access_key_id"]
            env["AWS_SECRET_ACCESS_KEY"] = self.iam_keys["secret_access_key"]
        spawned = spawn_child("poller", argv, env, self.log_dir)
        self.children["poller"] = ChildServer("poller", "", spawned.process)
        return spawned

    def start_poller(self) -> ChildServer:
        """Start (or restart) the stream poller; it resumes from the checkpoint file."""
        child, _ = wait_ready("poller", self._spawn_poller(), self.log_dir, self.options.start_timeout_s)
        self.children["poller"] = child
        if self.info:
            self.write_stack_file()
        return child

    def write_stack_file(self) -> None:
        pids = {name: child.pid for name, child in self.children.items()}
        self.info["pids"] = {**pids, "supervisor": os.getpid()}
        temporary = self.stack_file.with_suffix(".tmp")
        temporary.unlink(missing_ok=True)
        # Owner-only: the file holds the stack's API key, token secret and IAM key pair.
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(json.dumps(self.info, indent=2) + "\n")
        os.replace(temporary, self.stack_file)

    def stop(self) -> None:
        """Stop the children, newest first (the poller before the servers it talks to)."""
        self._stopping = True
        for name in reversed(list(self.children)):
            self.children[name].stop()
        with contextlib.suppress(FileNotFoundError):
            if json.loads(self.stack_file.read_text()).get("pids", {}).get("supervisor") == os.getpid():
                self.stack_file.unlink()

    def crashed(self) -> tuple[str, ChildServer] | None:
        for name, child in self.children.items():
            if not child.alive():
                return name, child
        return None

    def supervise(self, out: TextIO = sys.stderr) -> int:
        """Block until SIGINT/SIGTERM (exit 0) or a child's crash (exit 1); stop everything either way."""

        def request_stop(signum: int, frame: FrameType | None) -> None:
            self._stopping = True

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not self._stopping:
                crash = self.crashed()
                # A terminal's Ctrl-C reaches the children too; that is a stop, not a crash.
                if crash and crash[1].process.returncode != -signal.SIGINT:
                    name, child = crash
                    log = self.log_dir / f"{name}.log"
                    out.write(
                        f"dev: {name} (pid {child.pid}) exited with code {child.process.returncode}; "
                        f"stopping the stack.\n--- last lines of {log} ---\n{_tail(log)}\n"
                    )
                    out.flush()
                    return 1
                if crash:
                    break
                time.sleep(0.2)
            return 0
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def read_stack_file(state_dir: Path = DEFAULT_STATE_DIR) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((state_dir / "stack.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data


# What each process's command line contains, so a pid reused by another program is never signalled.
PROCESS_MARKERS = {
    "moto": "devstack.motoserver",
    "osmem": "osmem",
    "appsync": "devstack.appsync",
    "poller": "devstack.poller",
    "supervisor": "dev.py",
}


def is_stack_process(name: str, pid: int) -> bool:
    """The pid is alive and still runs this stack's `name` (checked in /proc where there is one)."""
    if not pid or not pid_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.parent.joinpath("self").exists():
        return True  # no /proc (macOS): trust the pid
    try:
        return PROCESS_MARKERS.get(name, "\0") in cmdline.read_bytes().decode(errors="replace")
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
