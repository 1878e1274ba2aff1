"""Storage backends behind one repository interface. All SQL lives in this package."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .database import SchemaTooNew
from .interface import Store

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


async def open_store(
    url: str,
    *,
    clock: Callable[[], datetime] | None = None,
    pool_min_size: int = 1,
    pool_max_size: int = 10,
) -> Store:
    """Open the store `url` names, applying pending migrations. The pool sizes matter to PostgreSQL only."""
    options = {"clock": clock} if clock else {}
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteStore

        return await SqliteStore.open(url, **options)
    if url.startswith(POSTGRES_SCHEMES):
        from .postgres import PostgresStore

        return await PostgresStore.open(url, min_size=pool_min_size, max_size=pool_max_size, **options)
    raise ValueError(f"unsupported database URL {url.split('://')[0]!r}: use sqlite:/// or postgresql://")


__all__ = ["POSTGRES_SCHEMES", "SchemaTooNew", "Store", "open_store"]
