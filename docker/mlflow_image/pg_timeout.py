"""A read timeout for PostgreSQL connections, which libpq does not have.

A PostgreSQL server that hangs while its host still answers TCP (a frozen process, a
stalled storage layer, a paused VM whose kernel still runs) never trips TCP keepalives or
`tcp_user_timeout`: the kernel acknowledges every byte and every probe. A pooled connection
then waits forever for the answer to MLflow's pre-ping, and so does the request, the worker
thread and, at the next stop, the server's shutdown.

`install` registers a psycopg2 wait callback (psycopg2's documented "green" mode: libpq runs
non-blocking and psycopg2 calls back to wait for the socket) that waits at most
`READ_TIMEOUT_SECONDS` for the database to send or accept anything (during a new
connection: its own `connect_timeout`, which libpq ignores in this mode). When the wait
runs out it logs one line and shuts the socket down: libpq then fails the call with its own
"server closed the connection unexpectedly", which SQLAlchemy takes for a disconnect (the
pool is dropped and reconnected on the next checkout). Nothing else changes: every call
still runs to completion or to a libpq error.

Installed by the preloaded server once the migrations are done (a replica waits on the
migration lock longer than the timeout) and before it builds the app; its workers inherit
it. MLflow's own launcher (`mlflow server`, MLFLOW_UVICORN_OPTS and friends) is not covered.
Cost: none measurable (`bench/pg_read_timeout.py`: 0.98x to 1.01x per `SELECT 1` on loopback).
"""

# ruff: noqa: PLC0415  # psycopg2 is imported only where PostgreSQL is used

from __future__ import annotations

import logging
import select
import socket
from typing import Any

LOG = logging.getLogger("mlflow_image")

READ_TIMEOUT_SECONDS = 30.0
"""Longest silence of the database within one call (like PyMySQL's read_timeout, which the
image sets to the same 30 s): far beyond any MLflow query."""


def wait_with_timeout(conn: Any, read_timeout: float = READ_TIMEOUT_SECONDS) -> None:
    """psycopg2 wait callback: poll `conn` until its operation is done, waiting at most
    `read_timeout` (while connecting: the DSN's connect_timeout, else the same) for each
    socket readiness; on a timeout, shut the socket down so that libpq fails the call."""
    import psycopg2
    import psycopg2.extensions as ext

    connecting = conn.status == ext.STATUS_SETUP
    limit = read_timeout
    if connecting:
        configured = ext.parse_dsn(conn.dsn).get("connect_timeout")
        if configured and configured.isdigit() and int(configured) > 0:
            limit = float(configured)
    poller = select.poll()
    registered: int | None = None
    for _ in range(1_000_000):  # each round is one socket wait: bounded by the limit
        state = conn.poll()
        if state == ext.POLL_OK:
            return
        if state == ext.POLL_READ:
            events = select.POLLIN
        elif state == ext.POLL_WRITE:
            events = select.POLLOUT
        else:
            raise psycopg2.OperationalError(f"unexpected psycopg2 poll state {state}")
        fd = conn.fileno()
        if registered is not None and registered != fd:
            poller.unregister(registered)
            registered = None
        if registered is None:
            poller.register(fd, events)
            registered = fd
        else:
            poller.modify(fd, events)
        if not poller.poll(limit * 1000):
            what = "connecting" if connecting else "in a query"
            LOG.error(
                "database did not answer for %gs %s (%s): connection dropped",
                limit,
                what,
                "connect_timeout" if connecting else "read timeout",
            )
            _shut_down(fd)
    raise psycopg2.OperationalError("psycopg2 wait: too many poll rounds")


def _shut_down(fd: int) -> None:
    """Shut the connection's socket down (both ways) without closing libpq's descriptor."""
    sock = socket.socket(fileno=fd)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.detach()  # the descriptor stays libpq's


def install(read_timeout: float = READ_TIMEOUT_SECONDS) -> None:
    """Make every psycopg2 connection of this process (and its forks) wait at most
    `read_timeout` seconds for the database (DB_READ_TIMEOUT_SECONDS)."""
    import psycopg2.extensions

    def wait(conn: Any) -> None:
        wait_with_timeout(conn, read_timeout)

    psycopg2.extensions.set_wait_callback(wait)
