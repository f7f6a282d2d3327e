"""`mlflow_image.pg_timeout`: when it is installed, and what its wait does on silence."""

from __future__ import annotations

import socket

import psycopg2
import psycopg2.extensions as ext
import pytest
from mlflow_image import entrypoint as ep
from mlflow_image import pg_timeout


def test_installed_only_where_postgresql_is_used() -> None:
    assert ep.uses_postgresql(ep.resolve({"DB_HOST": "h", "DB_PASSWORD": "x"}))
    assert not ep.uses_postgresql(
        ep.resolve({"DB_ENGINE": "mysql", "DB_HOST": "h", "DB_PASSWORD": "x"})
    )
    assert not ep.uses_postgresql(ep.resolve({"DATA_DIR": "/d"}))


class SilentConnection:
    """A psycopg2-like connection in a query, waiting to read from a peer that never writes;
    once its socket is shut down, poll() fails as libpq does."""

    status = ext.STATUS_READY  # in a query, not connecting
    dsn = "host=h connect_timeout=10"

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()

    def poll(self) -> int:
        try:
            data = self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return ext.POLL_READ
        if data == b"":
            raise psycopg2.OperationalError("server closed the connection unexpectedly")
        return ext.POLL_READ


def test_silence_shuts_the_socket_down_and_libpq_reports_the_disconnect(caplog) -> None:
    a, b = socket.socketpair()
    try:
        with pytest.raises(psycopg2.OperationalError, match="closed the connection"):
            pg_timeout.wait_with_timeout(SilentConnection(a), read_timeout=0.2)
        assert "database did not answer for 0.2s in a query (read timeout)" in caplog.text
        assert a.fileno() >= 0  # libpq's descriptor is left open for libpq to close
    finally:
        a.close()
        b.close()
