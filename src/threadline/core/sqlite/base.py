"""SQLite with connections kept open between requests and jobs: one small pool per process and database file.

Django opens a connection when a thread first touches the database and closes it when the request (or a
pass of the worker loop) ends. On SQLite both ends are expensive: opening registers Django's SQL functions
and runs the PRAGMAs, and closing the last connection to a WAL database checkpoints and deletes the WAL.
Under ASGI every request runs its synchronous part in a fresh thread, so persistent connections
(``CONN_MAX_AGE``) cannot help; this pool can. Measured in-process (``bench/README.md``, "ingestion"): a
worker spent 46 ms per inbound message with a connection per job, 25 ms with a kept one.

PostgreSQL has Django's own pool (psycopg_pool, ``settings.DATABASES``); this is the SQLite counterpart.
"""

from __future__ import annotations

import threading

from django.db.backends.sqlite3 import base, creation


class ConnectionPool:
    """Idle sqlite3 connections of one database file, at most ``size`` kept; extra ones are closed."""

    def __init__(self, size: int):
        self.size = size
        self._idle: list = []
        self._lock = threading.Lock()

    def take(self):
        with self._lock:
            return self._idle.pop() if self._idle else None

    def give(self, connection) -> None:
        if connection.in_transaction:
            connection.rollback()
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(connection)
                return
        connection.close()

    def drain(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


_pools: dict[str, ConnectionPool] = {}
_pools_lock = threading.Lock()


def pool_for(name: str, size: int) -> ConnectionPool:
    with _pools_lock:
        return _pools.setdefault(str(name), ConnectionPool(size))


def drain_pool(name: str) -> None:
    with _pools_lock:
        pool = _pools.pop(str(name), None)
    if pool is not None:
        pool.drain()


class DatabaseCreation(creation.DatabaseCreation):
    """A test database file is deleted and created again: its pooled connections must not outlive it."""

    def _create_test_db(self, verbosity, autoclobber, keepdb=False):
        drain_pool(self._get_test_db_name())
        return super()._create_test_db(verbosity, autoclobber, keepdb)

    def _destroy_test_db(self, test_database_name, verbosity):
        drain_pool(test_database_name)
        super()._destroy_test_db(test_database_name, verbosity)


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation

    def _pool(self) -> ConnectionPool:
        return pool_for(self.settings_dict["NAME"], int(self.settings_dict.get("POOL_SIZE", 8)))

    def get_new_connection(self, conn_params):
        if not self.is_in_memory_db():
            kept = self._pool().take()
            if kept is not None:
                return kept
        return super().get_new_connection(conn_params)

    def _close(self):
        # Closed inside an atomic block, Django keeps a reference to the connection until the block ends,
        # so it must not be handed to another thread: really close it then.
        if self.connection is None or self.in_atomic_block or self.is_in_memory_db():
            return super()._close()
        with self.wrap_database_errors:
            self._pool().give(self.connection)
