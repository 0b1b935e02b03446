"""The web example (web/), built with Vite and served on a free loopback port with a stack's config.json.

`make demo` serves the page this way for a newcomer, and the browser tests (tests/web/) for Chromium:

    build = PageBuild(Path(".dev/web")).start()   # runs in the background
    ...                                           # start the stack meanwhile
    server = PageServer(build.wait())
    server.set_config(page_config(stack_file))    # web/scripts/config.mjs: endpoint, API key, local tokens

The page is static; only `config.json` differs between stacks, so the server answers it from memory and
a test can swap it. Its origin is `http://127.0.0.1:<port>`, a loopback origin the local endpoint's
Host/Origin guard admits (devstack/appsync/server.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = REPO_ROOT / "web"
DEMO_USERS = ("alice", "bob")
"""The local users config.mjs mints tokens for by default; the page offers them at sign-in."""


class WebPageError(RuntimeError):
    """The page could not be built or configured; the message says what to run."""


def _require_node_modules() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise WebPageError("node and npm are not on PATH: the web page needs Node 20")
    if not (WEB_DIR / "node_modules").exists():
        raise WebPageError(f"{WEB_DIR / 'node_modules'} is missing: run `make demo` (it runs npm ci in web/)")


@dataclass
class PageBuild:
    """A Vite build of web/ into `out_dir`, run in the background from `start()` until `wait()`.

    `typecheck` runs the package's `build` script (`tsc --noEmit`, then `vite build`), as the tests
    want; without it only Vite runs, which is all a demo needs to serve the page.
    """

    out_dir: Path
    typecheck: bool = True
    process: subprocess.Popen[str] | None = field(default=None, init=False)

    def start(self) -> PageBuild:
        _require_node_modules()
        out = ["--outDir", str(self.out_dir.resolve()), "--emptyOutDir"]
        vite = [str(WEB_DIR / "node_modules" / ".bin" / "vite"), "build", *out]
        argv = ["npm", "run", "--silent", "build", "--", *out] if self.typecheck else vite
        self.process = subprocess.Popen(
            argv,
            cwd=WEB_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        return self

    def wait(self, timeout_s: float = 300.0) -> Path:
        """The built page's folder; WebPageError with the build's output if it failed."""
        if self.process is None:
            self.start()
        assert self.process is not None
        try:
            output, _ = self.process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.stop()
            raise WebPageError(f"the web page's build did not finish within {timeout_s:.0f} s") from None
        if self.process.returncode != 0:
            raise WebPageError(
                f"the web page's build failed (exit {self.process.returncode}):\n{output[-4000:]}"
            )
        if not (self.out_dir / "index.html").is_file():
            raise WebPageError(f"the web page's build wrote no {self.out_dir / 'index.html'}")
        return self.out_dir

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def build_page(out_dir: Path, typecheck: bool = True) -> Path:
    """Build the page into `out_dir` and return it."""
    return PageBuild(out_dir, typecheck).start().wait()


def page_config(stack_file: Path, users: Sequence[str] = DEMO_USERS) -> dict[str, Any]:
    """The page's config.json for a stack, made by the page's own `scripts/config.mjs` (one source for
    its shape): the GraphQL URL, region, API key, and a token per local user from the stack's
    `token_command`."""
    _require_node_modules()
    with tempfile.TemporaryDirectory(prefix="page-config-") as folder:
        out = Path(folder) / "config.json"
        argv = ["node", "scripts/config.mjs", "--stack", str(stack_file), "--out", str(out)]
        for user in users:
            argv += ["--user", user]
        made = subprocess.run(argv, cwd=WEB_DIR, capture_output=True, text=True, timeout=120, check=False)
        if made.returncode != 0:
            raise WebPageError(f"config.mjs failed: {made.stderr.strip() or made.stdout.strip()}")
        config: dict[str, Any] = json.loads(out.read_text())
        return config


class _Server(ThreadingHTTPServer):
    config_json: bytes | None = None


def _handler(dist: Path) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        server: _Server

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(dist), **kwargs)

        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/config.json":
                super().do_GET()
                return
            body = self.server.config_json
            if body is None:
                self.send_error(404, "no config.json")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")  # it holds tokens that die with the stack
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the demo's and the tests' output quiet

    return Handler


@dataclass
class PageServer:
    """Serves a built page on a free loopback port (a thread of this process), with a config.json the
    caller chooses (`set_config`; 404 until then)."""

    dist: Path
    server: _Server = field(init=False)

    def __post_init__(self) -> None:
        self.server = _Server(("127.0.0.1", 0), _handler(self.dist))
        threading.Thread(target=self.server.serve_forever, name="page-server", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def set_config(self, config: dict[str, Any] | None) -> None:
        self.server.config_json = None if config is None else json.dumps(config).encode()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def chromium_command(url: str, spki_sha256: str) -> str:
    """A command line that opens `url` in Chromium trusting the stack's https endpoint: that server key
    only, in a throwaway profile (the flag needs a user data dir)."""
    return (
        f'chromium --user-data-dir="$(mktemp -d)" --ignore-certificate-errors-spki-list={spki_sha256} {url}'
    )
