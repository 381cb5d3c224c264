"""Waiting for another process or thread in a test: poll a condition until it holds, or fail with
what was seen when the deadline passed. A deadline bounds a wait; it is never what a test checks."""
from __future__ import annotations

import time
from typing import Callable


def wait_until(condition: Callable[[], bool], *, within: float, seen: Callable[[], object], every: float = 0.2):
    """Poll ``condition`` every ``every`` seconds; after ``within`` seconds without it, fail the
    test with ``seen()`` (the state to look at)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not reached within {within} s: {seen()!r}")
        time.sleep(every)
