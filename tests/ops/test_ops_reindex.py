"""A reindex with a changed mapping swaps the read alias while searches and writes go on, with no errors."""

from __future__ import annotations

import json
import random
import threading
import time

import pytest
from opshelpers import OpsEnv, run_script

from ops.indices import alias_indices
from ops.reindex import Reindexer
from projector.entities import LISTING, load_mapping


def _v2_mapping(env: OpsEnv) -> str:
    """The changed mapping: `city` gets an analysed `city.text` sub-field (searchable by word)."""
    body = load_mapping(LISTING)
    body["mappings"]["properties"]["city"] = {"type": "keyword", "fields": {"text": {"type": "text"}}}
    path = env.tmp / "listings.v2.json"
    path.write_text(json.dumps(body))
    return str(path)


def _wait_projected(env: OpsEnv, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while env.live_versions(f"{env.prefix}listings") != env.table_versions():
        assert time.monotonic() < deadline, "projector did not catch up"
        time.sleep(0.2)


def test_reindex_keeps_searches_answering(ops_env: OpsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    env = ops_env
    read_alias, write_alias = LISTING.read_alias(env.prefix), LISTING.write_alias(env.prefix)
    versions = {f"l{n:03d}": env.put_listing(f"l{n:03d}", city={"S": "Lisbon Centre"}) for n in range(60)}
    env.start_projector(monkeypatch, alias_ttl=0.5)
    _wait_projected(env)

    stop = threading.Event()
    answers: list[int] = []
    errors: list[str] = []

    def search_loop() -> None:
        while not stop.is_set():
            try:
                hits = env.search.search(index=read_alias, body={"size": 5, "query": {"match_all": {}}})
                answers.append(hits["hits"]["total"]["value"])
            except Exception as exc:  # any failed search is what this test is about
                errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.01)

    writes = {"create": 0, "update": 0, "delete": 0}

    def write_loop() -> None:
        rng = random.Random(7)
        live = dict(versions)
        for n in range(300):
            if stop.is_set():
                return
            op = rng.choice(("create", "update", "update", "delete"))
            if op == "create" or not live:
                live[f"w{n:03d}"] = env.put_listing(f"w{n:03d}", city={"S": "Porto Norte"})
            elif op == "update":
                key = rng.choice(sorted(live))
                live[key] = env.put_listing(key, expected=live[key], city={"S": "Faro Sul"})
            else:
                key = rng.choice(sorted(live))
                env.delete_listing(key)
                del live[key]
            writes[op] += 1
            time.sleep(0.005)

    threads = [threading.Thread(target=search_loop), threading.Thread(target=write_loop)]
    for thread in threads:
        thread.start()
    try:
        report = Reindexer(
            env.search, env.dynamodb, env.stack.table_name, env.writer().transport, LISTING,
            prefix=env.prefix, log=lambda _: None,
        ).run(mapping=_v2_mapping(env), alias_cache_seconds=1.5, segments=2, sample_size=20)  # fmt: skip
    finally:
        threads[1].join(60)
        time.sleep(0.3)
        stop.set()
        threads[0].join(10)
    env.drain_projector()

    old, new = env.index(version=1), env.index(version=2)
    assert errors == []
    assert len(answers) > 20 and min(answers) > 0
    assert report.swapped and report.sampled > 0
    assert alias_indices(env.search, read_alias) == [new]
    assert alias_indices(env.search, write_alias) == [new]
    assert not env.search.indices.exists(index=old)
    assert sum(writes.values()) == 300
    assert env.live_versions(read_alias) == env.table_versions()
    # The new mapping is the one serving: word search on the new sub-field finds the listings.
    env.search.indices.refresh(index=new)
    found = env.search.count(index=read_alias, body={"query": {"match": {"city.text": "lisbon"}}})["count"]
    assert found == sum(1 for item in env.table_versions() if item.startswith("l")) - _changed_city(env)


def _changed_city(env: OpsEnv) -> int:
    """Listings l* whose city an update changed (no longer in Lisbon)."""
    count = 0
    for page in env.dynamodb.get_paginator("scan").paginate(TableName=env.stack.table_name):
        count += sum(
            1 for i in page["Items"] if i["id"]["S"].startswith("l") and i["city"]["S"] != "Lisbon Centre"
        )
    return count


def test_reindex_cli_plan_abort_and_errors(ops_env: OpsEnv) -> None:
    env = ops_env
    for n in range(5):
        env.put_listing(f"c{n}")
    mapping = _v2_mapping(env)

    plan = run_script(env, "reindex.py", "-e", "listings", "-m", mapping, "--plan", "--json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout) == {"old_index": env.index(version=1), "new_index": env.index(version=2)}

    missing = run_script(env, "reindex.py", "-e", "listings", "--version", "7")
    assert missing.returncode == 2
    assert (
        "ReindexError: mapping file" in missing.stderr and "listings.v7.json does not exist" in missing.stderr
    )

    # A leftover new index outside the write alias is refused, and --abort removes it.
    env.search.indices.create(index=env.index(version=2), body=load_mapping(LISTING))
    leftover = run_script(env, "reindex.py", "-e", "listings", "-m", mapping, "--alias-cache-seconds", "0")
    assert leftover.returncode == 2 and "a leftover?" in leftover.stderr
    aborted = run_script(env, "reindex.py", "-e", "listings", "--abort")
    assert aborted.returncode == 0 and f"deleted {env.index(version=2)}" in aborted.stdout

    # The old index lacks the items (never backfilled): verification fails and the read alias stays.
    args = ["-e", "listings", "-m", mapping, "--alias-cache-seconds", "0", "--verify-seconds", "1"]
    failed = run_script(env, "reindex.py", *args)
    assert failed.returncode == 2
    assert "verification failed, read alias not moved: live document counts differ" in failed.stderr
    assert alias_indices(env.search, LISTING.read_alias(env.prefix)) == [env.index(version=1)]

    assert run_script(env, "backfill.py", "-e", "listings", "-i", env.index(version=1), "-q").returncode == 0
    done = run_script(env, "reindex.py", *args, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["steps"][0].startswith(f"resume: {env.index(version=2)} exists")
    assert report["swapped"] and report["backfill"]["stale"] == 5  # the first run had written them
    assert report["counts"] == {env.index(version=1): 5, env.index(version=2): 5}
    assert alias_indices(env.search, LISTING.read_alias(env.prefix)) == [env.index(version=2)]
    assert not env.search.indices.exists(index=env.index(version=1))
