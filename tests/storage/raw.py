"""Reading and writing a store's database behind its back, as another process would."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg

from bot.storage.sqlite import sqlite_path


async def raw(url: str, sql: str) -> list[tuple]:
    """Run `sql` on a connection of its own to the database `url` names; return its rows."""
    if url.startswith("sqlite:///"):

        def run() -> list[tuple]:
            with sqlite3.connect(sqlite_path(url)) as connection:
                return connection.execute(sql).fetchall()

        return await asyncio.to_thread(run)
    connection = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()
