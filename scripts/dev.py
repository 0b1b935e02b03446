"""Run the local stack: `up [--detach]`, `down`, `status`, `demo [--once]`.

    .venv/bin/python scripts/dev.py up            # foreground; Ctrl-C stops everything
    .venv/bin/python scripts/dev.py up --detach   # returns once healthy; logs in .dev/logs/
    .venv/bin/python scripts/dev.py status
    .venv/bin/python scripts/dev.py down
    .venv/bin/python scripts/dev.py demo [--once]

Exit codes: 0 success, 1 failure (printed as `Type: message`).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack.stack import (
    DEFAULT_STATE_DIR,
    LocalStack,
    StackError,
    StackOptions,
    is_stack_process,
    pid_alive,
    read_stack_file,
)
from stackclient.stack import LOCAL_AWS_ENV


def running_stack(state_dir: Path) -> dict[str, object] | None:
    info = read_stack_file(state_dir)
    pids = info.get("pids", {}) if info else {}
    if (
        info
        and isinstance(pids, dict)
        and is_stack_process("supervisor", int(pids.get("supervisor", 0) or 0))
    ):
        return info
    return None


def summary(info: dict[str, object], state_dir: Path) -> str:
    auth = info.get("auth") or {}
    return (
        f"GraphQL     {info.get('graphql_url')} (CA {info.get('ca_file')})\n"
        f"API key     {auth.get('api_key') if isinstance(auth, dict) else ''}\n"
        f"DynamoDB    {info.get('dynamodb_endpoint')} (table {info.get('table_name')})\n"
        f"OpenSearch  {info.get('search_endpoint')}\n"
        f"details     {state_dir / 'stack.json'}; logs in {state_dir / 'logs'}"
    )


def up(state_dir: Path, detach: bool, poll_interval: float) -> int:
    if running_stack(state_dir):
        raise StackError("a local stack is already running: `scripts/dev.py down` first")
    stale = read_stack_file(state_dir)
    if stale:  # a stack whose supervisor was killed: clear what it left running
        leftovers = stop_processes(stale, timeout_s=5)
        if leftovers:
            print(f"dev: stopped leftovers of an earlier stack: {', '.join(leftovers)}")
    if detach:
        return up_detached(state_dir, poll_interval)
    stack = LocalStack(StackOptions(state_dir=state_dir, poll_interval_s=poll_interval))
    print("dev: starting moto, osmem, the AppSync endpoint and the stream poller...", flush=True)
    info = stack.start()
    print(f"dev: the local stack is up (Ctrl-C stops it)\n{summary(info, state_dir)}", flush=True)
    code = stack.supervise()
    print("dev: stopped", flush=True)
    return code


def up_detached(state_dir: Path, poll_interval: float, timeout_s: float = 120.0) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / "stack.log"
    with log.open("w") as out:
        child = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--state-dir",
                str(state_dir),
                "up",
                "--poll-interval",
                str(poll_interval),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the terminal; `down` stops it
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = read_stack_file(state_dir)
        if info and info.get("pids", {}).get("supervisor") == child.pid:
            print(
                f"dev: the local stack is up in the background (pid {child.pid})\n{summary(info, state_dir)}"
            )
            return 0
        if child.poll() is not None:
            raise StackError(
                f"the stack failed to start (exit {child.returncode}); {log}:\n{log.read_text()[-2000:]}"
            )
        time.sleep(0.1)
    os.killpg(child.pid, signal.SIGTERM)
    raise StackError(f"the stack was not up within {timeout_s:.0f} s; see {log}")


def stop_processes(info: dict[str, Any], timeout_s: float = 20.0) -> list[str]:
    """SIGTERM the supervisor (it stops its children), or the children themselves when it is gone; SIGKILL
    what is still there after `timeout_s`. Returns the children it had to stop itself."""
    pids = {name: int(pid) for name, pid in info.get("pids", {}).items()}
    supervisor = pids.pop("supervisor", 0)
    ours = {name: pid for name, pid in pids.items() if is_stack_process(name, pid)}
    orphans: list[str] = []
    if is_stack_process("supervisor", supervisor):
        os.kill(supervisor, signal.SIGTERM)
    else:  # nobody left to stop them in order
        orphans = list(ours)
        for pid in ours.values():
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(pid_alive(p) for p in [supervisor, *ours.values()] if p):
        time.sleep(0.1)
    leftovers = [name for name, pid in ours.items() if is_stack_process(name, pid)]
    for name in leftovers:
        os.kill(ours[name], signal.SIGKILL)
    return sorted(set(orphans) | set(leftovers))


def down(state_dir: Path) -> int:
    info = read_stack_file(state_dir)
    if not info:
        print("dev: no local stack is running")
        return 0
    leftovers = stop_processes(info)
    (state_dir / "stack.json").unlink(missing_ok=True)
    print("dev: stopped" + (f" (stopped left-behind {', '.join(leftovers)} by pid)" if leftovers else ""))
    return 0


def status(state_dir: Path) -> int:
    info = read_stack_file(state_dir)
    if not info:
        print("dev: no local stack (no .dev/stack.json)")
        return 1
    healthy = True
    for name, pid in info.get("pids", {}).items():
        alive = pid_alive(int(pid))
        healthy &= alive
        print(f"{name:<10} pid {pid:<8} {'running' if alive else 'NOT RUNNING'}")
    print(summary(info, state_dir))
    if not healthy:
        print("dev: the stack is not healthy: `scripts/dev.py down`, then `up` again")
    return 0 if healthy else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dev.py", description="Run the local appsync-cqrs stack.")
    parser.add_argument(
        "-s", "--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="where stack.json and logs go (.dev/)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start the stack (foreground unless --detach)")
    start.add_argument("-d", "--detach", action="store_true", help="return once healthy, keep running")
    start.add_argument(
        "-p", "--poll-interval", type=float, default=0.05, help="stream poll interval, seconds"
    )
    commands.add_parser("down", help="stop a detached stack")
    commands.add_parser("status", help="show the stack's processes and endpoints")
    demo = commands.add_parser(
        "demo", help="start, seed, search, report the lag; serve it and the web page until Ctrl-C"
    )
    demo.add_argument("-1", "--once", action="store_true", help="exit after the searches (no web page)")
    demo.add_argument("-n", "--limit", type=int, help="seed only the first N listings")
    demo.add_argument("-g", "--graphql-seed", action="store_true", help="seed through GraphQL (slow on moto)")
    args = parser.parse_args(argv)
    os.environ.update(LOCAL_AWS_ENV)  # the local stack's fake credentials; nothing here may reach AWS
    try:
        if args.command == "up":
            return up(args.state_dir, args.detach, args.poll_interval)
        if args.command == "down":
            return down(args.state_dir)
        if args.command == "status":
            return status(args.state_dir)
        from devstack.demo import run

        if running_stack(args.state_dir):
            raise StackError("a local stack is already running: `scripts/dev.py down` first")
        return run(args.once, args.limit, state_dir=args.state_dir, graphql_seed=args.graphql_seed)
    except (StackError, TimeoutError, OSError, RuntimeError) as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
