"""`billing-gateway api-key create|list|revoke`: partner and operator keys (ACC-6) from the
command line. `api-key ORG --scope …` (no sub-command) still creates a key."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from billing.clock import SystemClock
from billing.errors import BillingError
from gateway.cli_errors import CommandError
from gateway.db import close_database, open_database
from gateway.settings import Settings
from resolvers.api_keys import (
    ORGANIZATION_SCOPES,
    PLATFORM_SCOPES,
    ApiKeyListing,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)

SUB_COMMANDS = ("create", "list", "revoke")
T = TypeVar("T")


def add_api_key_commands(
    commands: Any,  # argparse's sub-parsers action (a private type)
) -> None:
    api_key = commands.add_parser(
        "api-key", help="create, list or revoke the API keys of organizations"
    )
    sub = api_key.add_subparsers(required=True, metavar="create|list|revoke")
    create = sub.add_parser(
        "create", help="create a key for an organization, or a platform key (printed once)"
    )
    create.add_argument(
        "organization", nargs="?", help="the organization's slug, e.g. acme (not with --platform)"
    )
    create.add_argument(
        "--platform",
        action="store_true",
        help="a platform key for the SaaS's backend, bound to no organization (ACC-6)",
    )
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        help=f"organization keys: {', '.join(sorted(ORGANIZATION_SCOPES))}; "
        f"platform keys: {', '.join(sorted(PLATFORM_SCOPES))}",
    )
    create.add_argument("--name", default="operator key")
    create.set_defaults(run=_create)

    listing = sub.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("organization", nargs="?", help="only this organization's keys")
    listing.set_defaults(run=_list)

    revoke = sub.add_parser("revoke", help="revoke a key: it is refused from then on")
    revoke.add_argument("key", help="the key's id or prefix (bgk_…), as 'api-key list' shows")
    revoke.set_defaults(run=_revoke)


def with_default_sub_command(argv: Sequence[str]) -> list[str]:
    """`api-key acme --scope …` is `api-key create acme --scope …` (the original form)."""
    args = list(argv)
    if len(args) > 1 and args[0] == "api-key" and args[1] not in (*SUB_COMMANDS, "-h", "--help"):
        args.insert(1, "create")
    return args


def _on_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    async def run() -> T:
        await open_database(settings.database_url)
        try:
            return await work()
        finally:
            await close_database()

    try:
        return asyncio.run(run())
    except BillingError as error:
        raise CommandError(f"api-key: {error.message}") from None


def _create(settings: Settings, args: argparse.Namespace) -> None:
    if args.platform == (args.organization is not None):
        raise CommandError(
            "api-key create: name an organization (its slug) or pass --platform, not both."
        )
    now = SystemClock().now()
    print(
        _on_database(
            settings, lambda: create_api_key(args.organization, args.name, args.scope, now)
        )
    )


def _describe(key: ApiKeyListing) -> str:
    status = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
    return "\t".join(
        (
            str(key.key_id),
            key.prefix,
            key.organization_slug or "(platform)",
            key.name,
            ",".join(key.scopes),
            key.created_at.isoformat(),
            status,
        )
    )


def _list(settings: Settings, args: argparse.Namespace) -> None:
    keys = _on_database(settings, lambda: list_api_keys(args.organization))
    print("\t".join(("id", "prefix", "organization", "name", "scopes", "created", "status")))
    for key in keys:
        print(_describe(key))


def _revoke(settings: Settings, args: argparse.Namespace) -> None:
    now = SystemClock().now()
    key, revoked = _on_database(settings, lambda: revoke_api_key(args.key, now))
    if revoked:
        owner = key.organization_slug or "platform"
        print(f"revoked {key.prefix} ({key.name}, {owner}): it is refused from now")
    else:
        assert key.revoked_at is not None
        print(f"{key.prefix} was already revoked at {key.revoked_at.isoformat()}")
