"""Runs one server of bench/request_path.py with the garbage collector's pauses recorded
(gc.callbacks): it writes to GC_FILE, several times a second and at exit, the collections of
each generation, the longest pause and the pauses over 20 ms since start or the last reset.

    python bench/request_path_server.py GC_FILE gateway PORT   # `billing-gateway serve`
    python bench/request_path_server.py GC_FILE ceiling PORT   # bench/request_path_ceiling.py
"""

from __future__ import annotations

import atexit
import gc
import json
import runpy
import sys
import threading
import time
from pathlib import Path
from typing import Any

# The checkout whose gateway runs is the working directory (bench/request_path.py --baseline).
sys.path.insert(0, str(Path.cwd()))

_started: list[float] = [0.0, 0.0]
# Wall time is what a request waits; on a shared machine it includes waiting for a core, so the
# collector's own CPU time (time.thread_time) is recorded too.
stats: dict[str, Any] = {
    "collections": [0, 0, 0],
    "max_ms": 0.0,
    "max_generation": None,
    "over_20ms": 0,
    "total_ms": 0.0,
    "max_cpu_ms": 0.0,
    "cpu_over_20ms": 0,
}


def _callback(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0], _started[1] = time.perf_counter(), time.thread_time()
        return
    pause = (time.perf_counter() - _started[0]) * 1000
    cpu = (time.thread_time() - _started[1]) * 1000
    generation = int(info["generation"])
    stats["collections"][generation] += 1
    stats["total_ms"] += pause
    if pause > 20:
        stats["over_20ms"] += 1
    if cpu > 20:
        stats["cpu_over_20ms"] += 1
    stats["max_cpu_ms"] = max(stats["max_cpu_ms"], cpu)
    if pause > stats["max_ms"]:
        stats["max_ms"] = pause
        stats["max_generation"] = generation


def _write(path: Path) -> None:
    path.write_text(json.dumps(stats))


def _writer(path: Path) -> None:
    """Every 0.2 s: writes the stats; starts them afresh when GC_FILE.reset appears (the bench
    makes it once start-up and warm-up are over, so start-up's collections are not counted)."""
    reset = path.with_suffix(".reset")
    while True:
        time.sleep(0.2)
        if reset.exists():
            reset.unlink()
            stats.update(collections=[0, 0, 0], max_ms=0.0, max_generation=None, over_20ms=0)
            stats.update(total_ms=0.0, max_cpu_ms=0.0, cpu_over_20ms=0)
            # Objects in the permanent generation, frozen at start-up: counted once, here.
            # Counting walks them all (about 14 ms for the gateway's 209,000): five times a
            # second, that was 70 ms of CPU a second charged to the server measured.
            stats["frozen"] = gc.get_freeze_count()
        _write(path)


def main() -> None:
    path, which, port = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    gc.callbacks.append(_callback)
    atexit.register(_write, path)
    threading.Thread(target=_writer, args=(path,), daemon=True).start()
    if which == "gateway":
        from gateway.cli import main as gateway_main

        gateway_main(["serve", "--port", port])
    else:
        sys.argv = [sys.argv[0], port]
        runpy.run_path(
            str(Path(__file__).with_name("request_path_ceiling.py")), run_name="__main__"
        )


if __name__ == "__main__":
    main()
