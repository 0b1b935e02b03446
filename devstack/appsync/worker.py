"""The Node.js worker that runs resolver handlers (devstack/appsync/runtime/worker.mjs).

One long-lived `node --import register.mjs worker.mjs` process; one JSON line in, one JSON line out.
Calls are serialised with a lock (the worker runs one handler at a time, like one AppSync invocation).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from devstack.appsync.errors import WorkerError

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"


class NodeWorker:
    """A running resolver worker."""

    def __init__(self, node: str | None = None) -> None:
        executable = node or shutil.which("node")
        if executable is None:
            raise WorkerError(
                "node is not on PATH: the local AppSync endpoint runs resolvers with Node.js 20+"
            )
        register, worker = (RUNTIME_DIR / "register.mjs").as_uri(), str(RUNTIME_DIR / "worker.mjs")
        self._argv = [executable, "--import", register, worker]
        self._process = self._spawn()
        self._lock = threading.Lock()
        self._next_id = 0
        self.restarts = 0

    def _spawn(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self._argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    def pid_alive(self) -> bool:
        return self._process.poll() is None

    def call(
        self,
        file: Path,
        handler: str,
        ctx: dict[str, Any],
        auth_type: str | None,
        unauthorized_message: str | None = None,
    ) -> dict[str, Any]:
        """Run `handler` ("request" or "response") of a resolver file with `ctx`; return the answer."""
        with self._lock:
            self._next_id += 1
            message = {
                "id": self._next_id,
                "file": str(file),
                "handler": handler,
                "ctx": ctx,
                "authType": auth_type,
                "unauthorizedMessage": unauthorized_message,
            }
            if self._process.poll() is not None:
                # A worker that died (killed, out of memory) is replaced; the call that saw it die failed.
                self._process = self._spawn()
                self.restarts += 1
            stdin, stdout = self._process.stdin, self._process.stdout
            assert stdin is not None and stdout is not None
            try:
                stdin.write(json.dumps(message) + "\n")
                stdin.flush()
                line = stdout.readline()
            except OSError as exc:
                raise WorkerError(f"the resolver worker is gone: {exc}") from exc
            if not line:
                raise WorkerError(
                    f"the resolver worker exited (code {self._process.wait()}) while running {file.name}"
                )
            answer: dict[str, Any] = json.loads(line)
            if answer.get("id") != self._next_id:
                raise WorkerError(f"the resolver worker answered out of turn: {line[:200]}")
            return answer

    def close(self) -> None:
        if self._process.poll() is None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
