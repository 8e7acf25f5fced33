"""The process's long-lived objects kept out of the garbage collector's full collections.

A full collection walks every object that survived two younger ones: at the million, with
scipy's statistics imported (about 130,000 more objects than at start-up), one took 20-40 ms
of CPU, and a new dashboard view set one off every one to five views (q31: 6-20 ms of CPU a
view on average, all of it in the views that set one off). `gc.freeze` moves what exists into
a generation no collection walks; what a frozen object holds is still freed by its reference
count when it is let go. Frozen: what start-up made (`freeze`, the app's lifespan, after a
full collection) and, once per process, what the first figures made (`freeze_with_statistics`:
scipy's modules, the templates, the rolled-up counts), after a collection of the young
generations only: it runs in the event loop after an answer, where a full collection of a
large process (a test worker's) would hold up every request waiting (the 200 concurrent
submissions of test_respond timed out once); what is garbage among the older objects then
stays, once per process."""

from __future__ import annotations

import gc
import sys

STATISTICS = "scipy.stats"
"""The module whose import marks a process that works out figures (it imports scipy's
special functions and optimisers too)."""

_with_statistics = False


def freeze() -> None:
    """Collect, then freeze every object there is."""
    gc.collect()
    gc.freeze()


def freeze_with_statistics() -> None:
    """Collect the young generations, then freeze every object there is: once per process,
    the first time it is called with scipy's statistics imported (after an answer, and after
    the dashboards' preparation)."""
    global _with_statistics
    if _with_statistics or STATISTICS not in sys.modules:
        return
    _with_statistics = True
    gc.collect(1)
    gc.freeze()
