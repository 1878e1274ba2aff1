"""Storage backends behind one repository interface. All SQL lives in this package."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .interface import Store
from .sqlite import SchemaTooNew, SqliteStore


async def open_store(url: str, *, clock: Callable[[], datetime] | None = None) -> Store:
    """Open the store `url` names, applying pending migrations."""
    if url.startswith("sqlite:///"):
        return await SqliteStore.open(url, **({"clock": clock} if clock else {}))
    raise ValueError(f"unsupported database URL {url!r}")


__all__ = ["SchemaTooNew", "Store", "open_store"]
