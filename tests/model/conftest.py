"""The model test's world: the session's moto and osmem (tests/conftest.py), a fault proxy before osmem.

Each Hypothesis example makes its own table, queue and indices (pipeline_model.World), so one example's
state never leaks into the next and osmem never slows under one index's update history.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.faultproxy import FaultProxy
from devstack.servers import ChildServer


@pytest.fixture
def fault_proxy(osmem: ChildServer) -> Iterator[FaultProxy]:
    # Short hangs: a timeout fault would otherwise eat the whole invocation deadline of a step.
    with FaultProxy(osmem.url, seed=15) as proxy:
        proxy.set(hang_seconds=0.2)
        yield proxy
