"""What the image's PostgreSQL read timeout costs per query (`mlflow_image.pg_timeout`).

The timeout is a psycopg2 wait callback: libpq runs non-blocking and every call waits in
Python (`select.poll`) instead of in C. This measures that on the hot path, side by side in
one run: rounds of `SELECT 1` round trips over loopback TCP, alternating without and with
the callback, on a throwaway PostgreSQL. Loopback is the worst case (the query itself is
nearly free); against a real database a network round trip of 0.3 ms or more dwarfs it.

    PYTHONPATH=docker .venv/bin/python -m bench.pg_read_timeout [--queries 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import psycopg2
import psycopg2.extensions
from mlflow_image import pg_timeout

from tests import services


def _round(pg: services.Postgres, queries: int, with_timeout: bool) -> float:
    """Microseconds per `SELECT 1` round trip on one connection."""
    if with_timeout:
        pg_timeout.install()
    else:
        psycopg2.extensions.set_wait_callback(None)
    try:
        with contextlib.closing(pg.admin_connect()) as conn, conn.cursor() as cur:
            started = time.perf_counter()
            for _ in range(queries):
                cur.execute("SELECT 1")
                cur.fetchone()
            return (time.perf_counter() - started) / queries * 1e6
    finally:
        psycopg2.extensions.set_wait_callback(None)


def main() -> None:
    parser = argparse.ArgumentParser(description="The PostgreSQL read timeout's cost per query.")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    plain: list[float] = []
    timed: list[float] = []
    with services.postgres() as pg:
        _round(pg, 200, with_timeout=False)  # warm the server and the client
        for _ in range(options.rounds):
            plain.append(_round(pg, options.queries, with_timeout=False))
            timed.append(_round(pg, options.queries, with_timeout=True))
    base, cost = statistics.median(plain), statistics.median(timed)
    print(f"{options.rounds} alternating rounds of {options.queries} SELECT 1 over loopback TCP")
    print(f"without the read timeout: {base:.1f} us per query (median)")
    print(f"with the read timeout:    {cost:.1f} us per query (median)")
    print(f"ratio: {cost / base:.2f}x, +{cost - base:.1f} us per query")


if __name__ == "__main__":
    main()
