"""The `sms-gateway` command line: the only place that reads argv and the environment."""

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.app import create_app, open_store
from gateway.clock import SystemClock
from gateway.config import Settings, load_settings
from gateway.errors import GatewayError
from gateway.services.container import build_services

DEFAULT_CONFIG = Path("config.toml")


def _settings(args: argparse.Namespace) -> Settings:
    path: Path | None = args.config
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    overrides: dict[str, dict[str, Any]] = {
        "server": {"host": getattr(args, "host", None), "port": getattr(args, "port", None)},
        "store": {"path": args.db},
    }
    return load_settings(path, overrides)


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # run_app turns SIGINT and SIGTERM into a graceful shutdown that runs every cleanup_ctx exit.
    web.run_app(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        shutdown_timeout=settings.server.shutdown_timeout_s,
        access_log=None,
        print=lambda message: logging.getLogger("gateway").info("%s", message),
    )
    return 0


async def _accounts(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    await store.open()
    try:
        services = build_services(settings, store, SystemClock())
        if args.accounts_command == "create":
            created = await services.accounts.create(args.login, args.password)
            print(json.dumps({"login": created.account.login, "api_key": created.api_key}))
        else:
            for account in await services.accounts.list():
                print(json.dumps({"login": account.login, "created_at": str(account.created_at)}))
    except GatewayError as exc:
        print(f"error: {exc.message}: {exc.reason}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    return 0


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML settings (default ./config.toml)")
    common.add_argument("--db", type=Path, help="SQLite file, overrides [store] path")
    parser = argparse.ArgumentParser(prog="sms-gateway", description="JSON-RPC 2.0 SMS gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", parents=[common], help="run the server")
    serve.add_argument("--host", help="overrides [server] host")
    serve.add_argument("--port", type=int, help="overrides [server] port")
    accounts = commands.add_parser("accounts", help="manage accounts")
    account_commands = accounts.add_subparsers(dest="accounts_command", required=True)
    create = account_commands.add_parser("create", parents=[common], help="create an account")
    create.add_argument("login")
    create.add_argument("--password", required=True)
    account_commands.add_parser("list", parents=[common], help="list accounts")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return asyncio.run(_accounts(args))


if __name__ == "__main__":
    sys.exit(main())
