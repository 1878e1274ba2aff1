"""The HTTP API: DisCal v1 and PERSCOM-style routes, and ICS feeds (aiohttp). Imports no discord."""

from .app import ApiServer, create_app, serve

__all__ = ["ApiServer", "create_app", "serve"]
