"""Start and stop the local stand-ins for AWS: moto server and osmem.

Both run as child processes on free loopback ports, so tests, the local stack and the benchmarks talk to
them over real HTTP exactly as they would talk to AWS.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from osmem_server import OsmemServer

from stackclient.stack import LOCAL_AWS_ENV


class ServerStartError(RuntimeError):
    """A local server did not become ready."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ChildServer:
    """A server running as a child process."""

    name: str
    url: str
    process: subprocess.Popen[bytes] | subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_http(url: str, process: subprocess.Popen[bytes], name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"{name} exited during start-up with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers: up
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise ServerStartError(f"{name} did not answer on {url} within {timeout} s")


def start_moto(port: int = 0, timeout: float = 30.0, *, plain: bool = False) -> ChildServer:
    """Start moto in server mode (DynamoDB, DynamoDB Streams, SQS, IAM, Lambda... all services).

    It runs through `devstack.motoserver`, which makes moto's DynamoDB transactions atomic (a cancelled
    one leaves no stream record behind); `plain=True` starts moto as released, to reproduce its gaps.
    """
    port = port or free_port()
    env = {**os.environ, **LOCAL_AWS_ENV, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    module = "moto.server" if plain else "devstack.motoserver"
    process = subprocess.Popen(
        [sys.executable, "-m", module, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_http(f"{url}/moto-api/", process, "moto server", timeout)
    return ChildServer("moto", url, process)


def start_osmem(port: int = 0) -> ChildServer:
    """Start osmem, the in-memory OpenSearch-compatible engine."""
    addr = f"127.0.0.1:{port}"
    server = OsmemServer.start(addr=addr, japanese=False)
    return ChildServer("osmem", server.url, server.process)
