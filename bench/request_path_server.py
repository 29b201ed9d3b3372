"""Runs one server of bench/request_path.py with the garbage collector's pauses recorded
(gc.callbacks): every second and at exit it writes, to GC_FILE, the collections of each
generation, the longest pause and the pauses over 20 ms since start.

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

_started: list[float] = [0.0]
stats: dict[str, Any] = {
    "collections": [0, 0, 0],
    "max_ms": 0.0,
    "max_generation": None,
    "over_20ms": 0,
    "total_ms": 0.0,
}


def _callback(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    pause = (time.perf_counter() - _started[0]) * 1000
    generation = int(info["generation"])
    stats["collections"][generation] += 1
    stats["total_ms"] += pause
    if pause > 20:
        stats["over_20ms"] += 1
    if pause > stats["max_ms"]:
        stats["max_ms"] = pause
        stats["max_generation"] = generation


def _write(path: Path) -> None:
    path.write_text(json.dumps(stats))


def _writer(path: Path) -> None:
    while True:
        time.sleep(1)
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
