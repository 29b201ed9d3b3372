"""The garbage collector in a serving process (issue 16).

What a process holds after start-up (modules, the schema, the app, the connection pool) lives as
long as the process. A full collection walks every object in reach, so without this each one
walked the 180,000 objects of start-up again: a pause of about 80 ms every few hundred requests
on the billing page (bench/request_path.py records them). `gc.freeze()` moves them to the
permanent generation, which collections leave alone; what requests allocate is collected as
before."""

from __future__ import annotations

import gc


def freeze_start_up_heap() -> None:
    """Call once start-up is done, before serving: collects what start-up left (so the garbage
    is not frozen with the rest), then freezes the survivors."""
    gc.collect()
    gc.freeze()
