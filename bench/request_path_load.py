"""The load generator of bench/request_path.py, run in its own process (wrk is not installed
here): CONNECTIONS keep-alive HTTP/1.1 connections on raw asyncio streams, each sending the same
POST again as soon as the answer is read, for SECONDS. Prints one JSON line: requests, seconds,
each latency in milliseconds, and the statuses seen.

    python bench/request_path_load.py HOST PORT SECONDS CONNECTIONS REQUEST_FILE
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path


async def connection(
    host: str,
    port: int,
    request: bytes,
    until: float,
    latencies: list[float],
    statuses: Counter[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[int(head.split(b" ", 2)[1])] += 1
    finally:
        writer.close()


async def main() -> None:
    host, port, seconds, connections, request_file = sys.argv[1:6]
    request = Path(request_file).read_bytes()  # noqa: ASYNC240  # before any request is sent
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    until = started + float(seconds)
    await asyncio.gather(
        *(
            connection(host, int(port), request, until, latencies, statuses)
            for _ in range(int(connections))
        )
    )
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "seconds": elapsed,
                "latencies": latencies,
                "statuses": {str(k): v for k, v in statuses.items()},
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
