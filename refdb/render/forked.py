"""Long renderings on two cores: the second half of the work done by a forked copy of this
process, the first half here, at the same time.

citeproc-py renders about a thousand entries a second on one core; a site of 10,000 studies
formatted from nothing spends most of its time there. `fork` gives the child everything the
work needs (the parsed style, the prepared items) without pickling any of it; only the
results come back, pickled, through a pipe. The child touches nothing but its half and ends
with `os._exit` (no clean-up that could touch the parent's files or database connections).
Where `fork` is missing, one core is all there is, the work is small, or the child fails, the
whole work is done here.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MINIMUM = 600
"""Below this many items the fork costs more than it saves."""


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def in_two(items: Sequence[T], work: Callable[[Sequence[T]], list[R]]) -> list[R]:
    """`work(items)`, the second half done by a forked child: `work` must give one picklable
    result per item, in order, and change nothing the parent needs."""
    if len(items) < MINIMUM or not hasattr(os, "fork") or _cores() < 2:
        return work(items)
    half = len(items) // 2
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return work(items)
    if pid == 0:  # the child: its half, then out at once
        status = 1
        try:
            os.close(read_end)
            data = pickle.dumps(work(items[half:]), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        mine = work(items[:half])
    finally:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
    theirs = pickle.loads(data) if status == 0 and data else None
    if not isinstance(theirs, list) or len(theirs) != len(items) - half:
        theirs = work(items[half:])  # the child failed: its half here
    return [*mine, *theirs]
