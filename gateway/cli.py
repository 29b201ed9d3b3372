"""The `billing-gateway` command: serve, worker, migrate, seed-demo, api-key, tick, token."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from gateway.api_key_commands import add_api_key_commands, with_default_sub_command
from gateway.catalog_file import CatalogFileError, load_catalog, load_demo
from gateway.cli_errors import CommandError, run_reporting_unreachable_database
from gateway.db import apply_migrations, close_database, open_database
from gateway.fixed_clock_setting import gateway_clock
from gateway.logs import configure_logging
from gateway.seed import SeedReport, database_is_empty, seed
from gateway.settings import Settings, SettingsError, load_settings


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(with_default_sub_command(sys.argv[1:] if argv is None else argv))
    try:
        settings = load_settings()
        configure_logging(settings.ops)
        run_reporting_unreachable_database(args.run, settings, args)
    except (SettingsError, CatalogFileError, CommandError) as error:
        print(f"billing-gateway: {error}", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billing-gateway", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the GraphQL server")
    serve.add_argument("--host", help="default GATEWAY_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default GATEWAY_PORT or 8000")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gateway processes sharing the port (default 1); each is stateless",
    )
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations (DATABASE_URL)")
    migrate.set_defaults(run=_migrate)

    seed_demo = commands.add_parser("seed-demo", help="load the catalog and the demo organizations")
    seed_demo.set_defaults(run=_seed_demo)

    add_api_key_commands(commands)

    tick = commands.add_parser("tick", help="run the billing clock's due work once")
    tick.set_defaults(run=_tick)

    worker = commands.add_parser(
        "worker", help="run the billing clock and the outbox (any number, on any hosts)"
    )
    worker.add_argument(
        "--every", type=float, default=10.0, help="seconds between ticks (default 10)"
    )
    worker.add_argument(
        "--batch",
        type=int,
        default=100,
        help="subscriptions claimed at a time (default 100)",
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        help="serve this worker's /metrics and /health on this port (default: none)",
    )
    worker.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="the address to serve them on (default 127.0.0.1)",
    )
    worker.set_defaults(run=_worker)

    token = commands.add_parser("token", help="print a development token for a user (sandbox only)")
    token.add_argument("email")
    token.set_defaults(run=_token)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    from gateway.processes import serve_one, serve_processes, tcp_listener

    if args.workers < 1:
        raise CommandError(f"--workers: expected 1 or more, got {args.workers}")
    host = args.host or settings.host
    port = args.port or settings.port
    # The port is taken before anything else starts, so a port in use is one line, not a traceback
    # after the sandbox's preparation.
    try:
        listener = tcp_listener(host, port)
    except OSError as error:
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    if settings.is_sandbox:
        # The embedded default works with no setup: schema, catalog and demo data on first start.
        asyncio.run(_prepare_sandbox(settings))
    what = "GraphiQL" if settings.graphiql else "GraphQL (GraphiQL off)"
    print(
        f"billing-gateway ({settings.mode.value}): {what} at http://{host}:{port}/graphql",
        flush=True,
    )
    if args.workers == 1:
        serve_one(listener, settings)
    else:
        serve_processes(listener, args.workers)


async def _prepare_sandbox(settings: Settings) -> None:
    await apply_migrations(settings.database_url)
    await open_database(settings.database_url)
    try:
        if await database_is_empty():
            report = await _seed(settings)
            print(
                f"seeded an empty database: {report.products} products, "
                f"{report.organizations_created} demo organizations"
            )
    finally:
        await close_database()


def _migrate(settings: Settings, _: argparse.Namespace) -> None:
    asyncio.run(apply_migrations(settings.database_url))
    print("migrations applied")


def _seed_demo(settings: Settings, _: argparse.Namespace) -> None:
    async def run() -> None:
        await apply_migrations(settings.database_url)
        await open_database(settings.database_url)
        try:
            report = await _seed(settings)
        finally:
            await close_database()
        print(
            f"catalog: {report.products} products, {report.new_prices} new price versions; "
            f"demo organizations created: {report.organizations_created}"
        )

    asyncio.run(run())


async def _seed(settings: Settings) -> SeedReport:
    catalog = load_catalog(settings.catalog_file)
    demo = load_demo(settings.demo_file, catalog)
    return await seed(catalog, demo, gateway_clock(settings.fixed_clock))


def _tick(settings: Settings, _: argparse.Namespace) -> None:

    from gateway.processor import build_mailer, build_processor
    from gateway.worker import tick
    from resolvers.webhook_delivery import DeliveryOptions

    async def run() -> list[str]:
        await open_database(settings.database_url)
        try:
            webhooks = DeliveryOptions(allow_private=settings.webhooks_allow_private)
            processor, mailer = build_processor(settings), build_mailer(settings)
            clock = gateway_clock(settings.fixed_clock)
            return await tick(clock, processor, mailer, webhooks, keep_events=True)
        finally:
            await close_database()

    events = asyncio.run(run())
    for event in events:
        print(event)
    print(f"billing clock: {len(events)} due item(s) done")


def _worker(settings: Settings, args: argparse.Namespace) -> None:
    from gateway.worker import run_worker

    if not args.every > 0:
        raise CommandError(f"--every: expected a number of seconds above 0, got {args.every}")
    if args.batch < 1:
        raise CommandError(f"--batch: expected 1 or more subscriptions, got {args.batch}")
    listener = None
    if args.metrics_port is not None:
        from gateway.processes import tcp_listener

        if not 0 < args.metrics_port < 65536:
            raise CommandError(f"--metrics-port: expected 1 to 65535, got {args.metrics_port}")
        # Taken before the worker starts: a port in use is one line, not a traceback.
        try:
            listener = tcp_listener(args.metrics_host, args.metrics_port)
        except OSError as error:
            raise CommandError(
                f"cannot listen on {args.metrics_host}:{args.metrics_port}: {error.strerror}"
            ) from None
    served = (
        f", metrics at http://{args.metrics_host}:{args.metrics_port}/metrics"
        if listener is not None
        else ""
    )
    print(
        f"billing-gateway ({settings.mode.value}): worker, a tick every {args.every:g} s, "
        f"batches of {args.batch}{served}",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings, args.every, batch=args.batch, metrics_listener=listener))


def _token(settings: Settings, args: argparse.Namespace) -> None:
    from gateway.auth import issue_token
    from models import User

    if not settings.is_sandbox:
        raise CommandError(
            "token: development tokens are issued in sandbox mode only (GATEWAY_MODE=sandbox)"
        )

    async def find_user() -> User | None:
        await open_database(settings.database_url)
        try:
            return await User.get_or_none(email=args.email.strip().lower())
        finally:
            await close_database()

    try:
        user = asyncio.run(find_user())
    except Exception as error:  # an unmigrated database, most often
        raise CommandError(
            f"token: cannot read users ({error}); run 'billing-gateway seed-demo' first"
        ) from None
    if user is None:
        raise CommandError(
            f"token: no user with e-mail {args.email!r}; "
            "run 'billing-gateway seed-demo' for the demo users"
        )
    ttl = min(settings.token_ttl_seconds, settings.token_max_lifetime_seconds)
    print(issue_token(user.id, settings.jwt_secret, ttl))
