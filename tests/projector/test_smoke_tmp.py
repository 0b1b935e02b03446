from projector_testkit import listing, review


def test_smoke(env):
    env.table.put(listing("a", 5))
    env.table.put(review("a", "r1", 7))
    env.table.put(listing("a", 6, title="Updated"))
    records = env.table.read()
    print(records[0])
    resp = env.invoke(records)
    assert resp == {"batchItemFailures": []}
    print(env.search.get("a"))
    assert env.search.ids() == ["a"]
    assert env.search.ids("reviews") == ["r1"]
    env.table.delete("LISTING#a", "LISTING")
    resp = env.invoke(env.table.read())
    assert env.search.ids() == []
    print(env.search.get("a"))
