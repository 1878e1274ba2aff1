"""Run the Discord stand-in by hand: ``python -m tests.standin --port 8765``.

Creates one guild with a text channel named "general", an admin member and a
plain member, prints the URLs/ids, and serves until interrupted.  While a bot
is connected it can be driven through the control API, e.g.::

    curl -s localhost:8765/_standin/state
    curl -s -XPOST localhost:8765/_standin/slash -d '{"guild_id": G, "channel_id": C,
         "user_id": U, "name": "event", "subcommand_path": ["list"], "options": {}}'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from .server import DiscordStandIn, Permissions


async def _main(args: argparse.Namespace) -> None:
    standin = DiscordStandIn(token=args.token, interaction_deadline=None if args.no_deadline else 3.0)
    await standin.start(args.host, args.port)
    guild_id = standin.add_guild(args.guild_name)
    channel_id = standin.add_channel(guild_id, "general")
    admin_role = standin.add_role(guild_id, "Admin", permissions=Permissions.ADMINISTRATOR)
    admin_id, member_id = 2100000000000000001, 2100000000000000002
    standin.add_member(guild_id, admin_id, "admin", roles=[admin_role])
    standin.add_member(guild_id, member_id, "member")
    print(f"api_base_url={standin.api_base_url}")
    print(f"gateway_url={standin.gateway_url}")
    print(f"token={standin.token}")
    print(f"guild_id={guild_id} channel_id={channel_id} admin_user_id={admin_id} member_user_id={member_id}")
    print(f"control API: {standin.base_url}/_standin/state", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await standin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.standin", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--guild-name", default="Test Guild")
    parser.add_argument("--no-deadline", action="store_true", help="disable the 3s interaction answer deadline")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
