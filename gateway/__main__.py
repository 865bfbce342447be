"""The `sms-gateway` command line: the only place that reads argv and the environment."""

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.app import create_app, open_store
from gateway.clock import SystemClock
from gateway.config import ConfigError, Settings, load_settings
from gateway.errors import GatewayError, InvalidParamFormat, StoreUnavailable
from gateway.logs import configure_logging
from gateway.replay.fixtures import FixtureError
from gateway.replay.recorder import Recorder, recorder_app
from gateway.replay.runner import (
    DEFAULT_URL,
    Profile,
    check_url,
    parse_profile,
    profiles_from,
    replay,
)
from gateway.rpc.openrpc import dumps, openrpc_document, webhook_event_schema
from gateway.services.container import build_services
from gateway.services.numbering import SHORTCODE_SHAPE, is_e164

DEFAULT_CONFIG = Path("config.toml")
GIL_SWITCH_INTERVAL_S = 0.0001


class CannotListen(Exception):
    """The server's address is taken or not allowed."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {error.strerror or error}")


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
    configure_logging(settings.server.log_format)
    # The store's threads hand every result back to the event loop. Under load the loop
    # never waits, so a thread that needs the GIL waits for CPython's forced switch: 5 ms by
    # default, which would be the floor of every commit. A tenth of a millisecond keeps the
    # hand-overs short; measured in bench/bench_send.py.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    asyncio.run(_serve_until_signalled(settings))
    return 0


async def _serve_until_signalled(settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM, then shut down once and completely.

    The first signal starts the graceful shutdown (in-flight requests finish, every cleanup_ctx
    exit runs: queued writes committed, runners stopped, store closed). Further signals are
    only logged: a second one must not cancel the shutdown half-way, which would leave the
    store's threads running and the process alive.
    """
    log = logging.getLogger("gateway")
    runner = web.AppRunner(
        create_app(settings), access_log=None, shutdown_timeout=settings.server.shutdown_timeout_s
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            log.info("signal %s: already shutting down", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        site = web.TCPSite(runner, settings.server.host, settings.server.port)
        try:
            await site.start()
        except OSError as exc:
            raise CannotListen(settings.server.host, settings.server.port, exc) from None
        log.info("serving on http://%s:%s", settings.server.host, settings.server.port)
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()
    log.info("stopped")


async def _operate(args: argparse.Namespace) -> int:
    """`accounts` and `numbers`: operators' commands, straight on the store."""
    settings = _settings(args)
    store = open_store(settings)
    await store.open()
    try:
        services = build_services(settings, store, SystemClock())
        if args.command == "numbers":
            if not (is_e164(args.number) or SHORTCODE_SHAPE.fullmatch(args.number)):
                raise InvalidParamFormat("number", "not an E.164 number or a shortcode")
            account = await services.accounts.by_login(args.login)
            owned = await services.numbers.create(
                account.id, args.number, not args.sms_disabled, args.label
            )
            added = {"login": account.login, "number": owned.number}
            print(json.dumps({**added, "sms_enabled": owned.sms_enabled}))
        elif args.accounts_command == "create":
            created = await services.accounts.create(args.login, args.password)
            print(json.dumps({"login": created.account.login, "api_key": created.api_key}))
        elif args.accounts_command == "senders":
            account = await services.accounts.by_login(args.login)
            for sender in args.allow:
                await store.approve_sender(account.id, sender, approved=True)
            for sender in args.remove:
                await store.approve_sender(account.id, sender, approved=False)
            approved = sorted(await store.approved_senders(account.id))
            print(json.dumps({"login": account.login, "approved_senders": approved}))
        else:
            for account in await services.accounts.list():
                print(json.dumps({"login": account.login, "created_at": str(account.created_at)}))
    except GatewayError as exc:
        print(f"error: {exc.message}: {exc.reason}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    return 0


def _replay(args: argparse.Namespace) -> int:
    if (args.login is None) != (args.password is None):
        print("error: give --login and --password together", file=sys.stderr)
        return 2
    profiles = profiles_from(args.login, args.password, args.profile)
    try:
        report = asyncio.run(replay(args.files, url=args.url, profiles=profiles))
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.render(verbose=args.verbose), end="")
    return 0 if report.ok else 1


def _record(args: argparse.Namespace) -> int:
    out: Path = args.out
    try:
        existing = out.read_text(encoding="utf-8")
    except FileNotFoundError:
        existing = ""
    except (OSError, UnicodeDecodeError) as exc:
        # Appending to a file that is not a fixture file would only make it worse.
        print(f"error: {out}: cannot read: {exc}", file=sys.stderr)
        return 2
    recorder = Recorder(args.login, existing)
    host, port = args.listen
    log = logging.getLogger("gateway.replay")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log.info("recording %s:%s -> %s into %s", host, port, args.upstream, out)
    try:
        web.run_app(
            recorder_app(args.upstream, out, recorder),
            host=host,
            port=port,
            access_log=None,
            print=lambda message: log.info("%s", message),
        )
    except OSError as exc:
        raise CannotListen(host, port, exc) from None
    log.info("recorded %d exchanges into %s", recorder.count, out)
    if recorder.not_recorded:
        log.warning("%d exchanges were forwarded but not recorded", recorder.not_recorded)
    for warning in recorder.warnings:
        log.warning("%s", warning)
    return 0


def _profile(spec: str) -> tuple[str, Profile]:
    try:
        return parse_profile(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _url(text: str) -> str:
    try:
        return check_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    # Port 0 is allowed: the system picks a free one, which the log then shows.
    if not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (port 0-65535)")
    return host, int(port)


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
    senders = account_commands.add_parser(
        "senders",
        parents=[common],
        help="approve alphanumeric senders: once any is, only those (and SMS) may be used",
    )
    senders.add_argument("login")
    senders.add_argument("--allow", action="append", default=[], metavar="NAME")
    senders.add_argument("--remove", action="append", default=[], metavar="NAME")
    schema = commands.add_parser(
        "schema", help="print the OpenRPC document (schema/openrpc.json) to stdout"
    )
    schema.add_argument(
        "--webhook-event",
        action="store_true",
        help="print the webhook body schema instead (schema/webhook-event.schema.json)",
    )
    numbers = commands.add_parser("numbers", help="manage numbers")
    number_commands = numbers.add_subparsers(dest="numbers_command", required=True)
    add_number = number_commands.add_parser(
        "add", parents=[common], help="register a number or shortcode to an account"
    )
    add_number.add_argument("login")
    add_number.add_argument("number", help="E.164 number (+33612345678) or shortcode")
    add_number.add_argument("--label", default="")
    add_number.add_argument("--sms-disabled", action="store_true")
    replay = commands.add_parser("replay", help="replay fixture files against a running gateway")
    replay.add_argument("files", nargs="+", type=Path, metavar="FILE", help="JSON Lines fixtures")
    replay.add_argument(
        "--url", default=DEFAULT_URL, type=_url, help=f"the gateway (default {DEFAULT_URL})"
    )
    replay.add_argument("--login", help="the default profile's login")
    replay.add_argument("--password", help="the default profile's password")
    replay.add_argument(
        "--profile",
        action="append",
        default=[],
        type=_profile,
        metavar="NAME=LOGIN:PASSWORD",
        help="another account the fixtures name in auth (repeatable)",
    )
    replay.add_argument("-v", "--verbose", action="store_true", help="list passing exchanges too")
    record = commands.add_parser("record", help="record live traffic as fixtures (a proxy)")
    record.add_argument(
        "--listen", default=("127.0.0.1", 8081), type=_host_port, help="HOST:PORT to serve on"
    )
    record.add_argument(
        "--upstream", default=DEFAULT_URL, type=_url, help=f"the gateway ({DEFAULT_URL})"
    )
    record.add_argument("--out", type=Path, required=True, help="JSON Lines file to append to")
    record.add_argument("--login", help="whose calls are recorded without an auth profile name")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    except CannotListen as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        return _serve(args)
    if args.command == "schema":
        document = webhook_event_schema() if args.webhook_event else openrpc_document()
        print(dumps(document), end="")
        return 0
    if args.command == "replay":
        return _replay(args)
    if args.command == "record":
        return _record(args)
    return asyncio.run(_operate(args))


if __name__ == "__main__":
    sys.exit(main())
