"""The garbage collector as SmartWard's long-running processes run it.

With CPython's default thresholds (700, 10, 10) the collector runs every few hundred allocations, and
each full collection walks every live object. A busy process allocates many short-lived objects per
message or request (an ingest worker: a batch of up to 5,000 observations; the API: 3,600 rows per
1 h trend), so the collector ran every few dozen messages and walked the open batch, or the whole
heap of modules, tables and ward state, over and over: a tenth of a worker's CPU under a burst, and in
``smartward bench api`` the trend route's rows cost twice as much inside ``serve`` as alone (py-spy).

:func:`quiet_gc`, once start-up is done: the objects alive then (modules, compiled routes, catalogues)
are frozen out of the collector's sight, and it runs every 20,000 allocations. Nothing on the hot
paths makes reference cycles, so garbage is still freed at once by reference counting; the collector
only bounds what cycles there are.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 50, 100)


def quiet_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
