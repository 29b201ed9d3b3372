"""PRV-2: the SaaS's identity provider's RS256/ES256 tokens, checked against its JWKS served by a
real local server, through the real ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from billing.access import Role
from billing.clock import FixedClock
from gateway.app import create_app
from gateway.identity_provider import identity_provider
from gateway.settings import IdentityProviderSettings, Settings
from models import Membership, Organization, User
from tests.conftest import SEEDED_AT, free_port
from tests.factories import organization_with
from tests.identity_provider import AUDIENCE, ISSUER, SigningKey, jwks_server

# Starts a JWKS server of its own: left out of the fast loop (`pytest -m "not slow"`).
pytestmark = pytest.mark.slow

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
SUBSCRIPTION = "{ organization { viewerRole subscription { status items { plan { code } } } } }"
READ = {
    "organization": {
        "viewerRole": "OWNER",
        "subscription": {"status": "ACTIVE", "items": [{"plan": {"code": "email-1000"}}]},
    }
}
HOUR = timedelta(hours=1)
RSA = SigningKey.rsa("rsa-2026-01")
EC = SigningKey.ec("ec-2026-01")


@asynccontextmanager
async def gateway(
    settings: Settings, clock: FixedClock, jwks_url: str, **options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The app trusting the identity provider at `jwks_url`, with a key cache of its own."""
    identity_provider.cache_clear()
    provider = IdentityProviderSettings(
        jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE, **options
    )
    app = create_app(replace(settings, identity_provider=provider), clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


async def read(http: httpx.AsyncClient, token: str, query: str = SUBSCRIPTION) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    (error,) = response.json()["errors"]
    return response.status_code, error["extensions"]["code"], error["message"]


async def provisioned() -> tuple[Organization, str]:
    """An organization and its owner, both known to the gateway by the SaaS's external ids."""
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    organization.external_id = f"org_{organization.slug}"
    await organization.save(update_fields=["external_id"])
    await User.filter(email=owner).update(external_id=f"user_{organization.slug}")
    return organization, f"user_{organization.slug}"


async def test_an_rs256_token_reads_the_subscription_rule_prv_2(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    _, subject = await provisioned()
    with jwks_server(RSA, EC) as idp:
        async with gateway(settings, clock, idp.url) as http:
            first = await read(http, RSA.token({"sub": subject}))
            again = await read(http, RSA.token({"sub": subject}))
    assert first.status_code == 200
    assert first.json() == {"data": READ}
    assert again.json() == {"data": READ}
    assert idp.fetches == 1  # the key set is cached


async def test_an_es256_token_reads_the_subscription_rule_prv_2(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    _, subject = await provisioned()
    with jwks_server(RSA, EC) as idp:
        async with gateway(settings, clock, idp.url) as http:
            response = await read(http, EC.token({"sub": subject}))
    assert response.json() == {"data": READ}


async def test_a_rotated_key_is_fetched_when_a_token_names_it_rule_prv_2(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    _, subject = await provisioned()
    rotated = SigningKey.rsa("rsa-2026-02")
    with jwks_server(RSA) as idp:
        async with gateway(settings, clock, idp.url, refresh_cooldown_seconds=0) as http:
            before = await read(http, RSA.token({"sub": subject}))
            idp.keys = [rotated]  # the provider rotates: the old key is gone, a new kid appears
            after = await read(http, rotated.token({"sub": subject}))
    assert before.json() == {"data": READ}
    assert after.json() == {"data": READ}
    assert idp.fetches == 2


async def test_a_token_signed_by_an_unknown_key_is_refused_after_one_refresh(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    _, subject = await provisioned()
    stranger = SigningKey.rsa("not-published")
    with jwks_server(RSA) as idp:
        async with gateway(settings, clock, idp.url, refresh_cooldown_seconds=0) as http:
            response = await read(http, stranger.token({"sub": subject}))
    assert refusal(response) == (
        401,
        "UNAUTHENTICATED",
        "The token is signed by an unknown key (kid 'not-published'): the identity provider's "
        "key set does not hold it, even after a refresh.",
    )
    assert idp.fetches == 2  # the first fetch, then the one refresh


async def test_unknown_key_ids_do_not_refetch_within_the_cooldown(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    _, subject = await provisioned()
    with jwks_server(RSA) as idp:
        async with gateway(settings, clock, idp.url) as http:
            await read(http, RSA.token({"sub": subject}))
            refused = [
                await read(http, SigningKey.ec(f"k{n}").token({"sub": subject})) for n in (1, 2)
            ]
    assert [r.status_code for r in refused] == [401, 401]
    assert idp.fetches == 1


async def test_the_jwks_down_is_unavailable_not_a_500(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    _, subject = await provisioned()
    nobody = f"http://127.0.0.1:{free_port()}/jwks.json"
    async with gateway(settings, clock, nobody) as http:
        response = await read(http, RSA.token({"sub": subject}))
        csv = await http.get(
            "/usage.csv", headers={"Authorization": f"Bearer {RSA.token({'sub': subject})}"}
        )
    status, code, message = refusal(response)
    assert (status, code) == (503, "UNAVAILABLE")
    assert message.startswith(
        "The identity provider's keys (GATEWAY_JWT_JWKS_URL) could not be fetched:"
    )
    assert message.endswith("Try again shortly.")
    assert refusal(csv)[:2] == (503, "UNAVAILABLE")


@pytest.mark.parametrize(
    "body", [b"<html>Bad gateway</html>", b"[1, 2]", b'{"keys": []}'], ids=["html", "list", "empty"]
)
async def test_a_jwks_answering_garbage_is_unavailable(
    database: str, settings: Settings, clock: FixedClock, body: bytes
) -> None:
    _, subject = await provisioned()
    with jwks_server(RSA) as idp:
        idp.garbage = body
        async with gateway(settings, clock, idp.url) as http:
            response = await read(http, RSA.token({"sub": subject}))
    status, code, message = refusal(response)
    assert (status, code) == (503, "UNAVAILABLE")
    assert message.startswith(
        "The identity provider's key set (GATEWAY_JWT_JWKS_URL) is not a usable JWKS:"
    )


def _other_issuer(subject: str) -> str:
    return RSA.token({"sub": subject, "iss": "https://evil.test/"})


def _other_audience(subject: str) -> str:
    return RSA.token({"sub": subject, "aud": "another-api"})


def _expired(subject: str) -> str:
    return RSA.token({"sub": subject}, lifetime=timedelta(minutes=-5))


def _two_days(subject: str) -> str:
    return RSA.token({"sub": subject}, lifetime=timedelta(days=2))


def _no_subject(subject: str) -> str:
    return RSA.token({"sub": ""})


def _no_key_id(subject: str) -> str:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + HOUR}
    return jwt.encode(claims, RSA.private, algorithm="RS256")


@pytest.mark.parametrize(
    ("make_token", "message"),
    [
        (
            _other_issuer,
            "The token's issuer is not the one this gateway trusts "
            "(expected 'https://login.saas.test/', GATEWAY_JWT_ISSUER).",
        ),
        (
            _other_audience,
            "The token is meant for another audience (expected 'billing-gateway', "
            "GATEWAY_JWT_AUDIENCE).",
        ),
        (_expired, "The identity provider's token has expired: sign in again for a new one."),
        (
            _two_days,
            "The identity provider's token is valid for longer than this gateway accepts "
            "(at most 86400 seconds from its issue)",
        ),
        (_no_subject, "The token does not name a user: its 'sub' claim"),
        (_no_key_id, "The token names no signing key ('kid' in its header)"),
    ],
    ids=["unknown-issuer", "wrong-audience", "expired", "too-long-lived", "no-subject", "no-kid"],
)
async def test_bad_identity_provider_tokens_are_refused_with_401(
    database: str, settings: Settings, clock: FixedClock, make_token: Any, message: str
) -> None:
    _, subject = await provisioned()
    with jwks_server(RSA) as idp:
        async with gateway(settings, clock, idp.url) as http:
            response = await read(http, make_token(subject))
    status, code, text = refusal(response)
    assert (status, code) == (401, "UNAUTHENTICATED")
    assert text.startswith(message)


async def test_a_provider_token_where_no_provider_is_configured(
    client: httpx.AsyncClient,
) -> None:
    _, subject = await provisioned()
    response = await read(client, RSA.token({"sub": subject}))
    assert refusal(response) == (
        401,
        "UNAUTHENTICATED",
        "The token is signed with a public key (RS256/ES256), but this gateway trusts no "
        "identity provider (GATEWAY_JWT_JWKS_URL is not set): use a token of this gateway.",
    )


async def test_a_user_not_provisioned_is_refused_rule_prv_2(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    token = RSA.token({"sub": "user_nobody", "email": "nobody@saas.test"})
    with jwks_server(RSA) as idp:
        async with gateway(settings, clock, idp.url) as http:
            response = await read(http, token)
    assert refusal(response) == (
        401,
        "UNAUTHENTICATED",
        "The token names a user who is not provisioned in this gateway (external id "
        "'user_nobody'): provision them first, or turn on GATEWAY_JWT_JIT.",
    )
    assert not await User.filter(email="nobody@saas.test").exists()


async def test_jit_provisioning_joins_the_claimed_organization_with_the_configured_role(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    organization, _ = await provisioned()
    claims = {
        "sub": "user_new_hire",
        "email": "new.hire@saas.test",
        "name": "New Hire",
        "org_id": organization.external_id,
    }
    options = {"organization_claim": "org_id", "jit": True, "jit_role": Role.BILLING_ADMIN}
    with jwks_server(RSA) as idp:
        async with gateway(settings, clock, idp.url, **options) as http:
            first = await read(http, RSA.token(claims))
            again = await read(http, RSA.token(claims))
    expected = {"data": {"organization": {**READ["organization"], "viewerRole": "BILLING_ADMIN"}}}
    assert first.json() == expected
    assert again.json() == expected
    user = await User.get(external_id="user_new_hire")
    assert (user.email, user.name) == ("new.hire@saas.test", "New Hire")
    memberships = await Membership.filter(user_id=user.id).values_list("organization_id", "role")
    assert memberships == [(organization.id, Role.BILLING_ADMIN)]


async def test_jit_is_refused_for_an_organization_not_provisioned(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    claims = {"sub": "user_lost", "email": "lost@saas.test", "org_id": "org_unknown"}
    with jwks_server(RSA) as idp:
        async with gateway(settings, clock, idp.url, organization_claim="org_id", jit=True) as http:
            response = await read(http, RSA.token(claims))
    assert refusal(response) == (
        401,
        "UNAUTHENTICATED",
        "The token names organization 'org_unknown', which is not provisioned in this gateway: "
        "provision it first.",
    )
    assert not await User.filter(external_id="user_lost").exists()


async def test_an_organization_claim_the_user_is_no_member_of_is_refused(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    _, subject = await provisioned()
    other, _ = await provisioned()
    claims = {"sub": subject, "org_id": other.external_id}
    with jwks_server(RSA) as idp:
        async with gateway(settings, clock, idp.url, organization_claim="org_id") as http:
            response = await read(http, RSA.token(claims))
    status, code, message = refusal(response)
    assert (status, code) == (401, "UNAUTHENTICATED")
    assert message.startswith(f"The token names organization '{other.external_id}', of which")


async def test_the_claimed_organization_is_the_one_read(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    _, subject = await provisioned()
    other, _ = await provisioned()
    user = await User.get(external_id=subject)
    await Membership.create(organization=other, user=user, role=Role.MEMBER)
    query = "{ organization { id viewerRole } }"
    with jwks_server(RSA) as idp:
        async with gateway(settings, clock, idp.url, organization_claim="org_id") as http:
            claimed = await read(
                http, RSA.token({"sub": subject, "org_id": other.external_id}), query
            )
            unclaimed = await read(http, RSA.token({"sub": subject}), query)
    assert claimed.json()["data"]["organization"] == {"id": str(other.id), "viewerRole": "MEMBER"}
    assert unclaimed.json()["data"]["organization"]["viewerRole"] == "OWNER"


async def test_jit_adds_a_known_user_to_the_claimed_organization_as_member_by_default(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    mine, subject = await provisioned()
    other, _ = await provisioned()
    token = RSA.token({"sub": subject, "org_id": other.external_id})
    with jwks_server(RSA) as idp:
        async with gateway(settings, clock, idp.url, organization_claim="org_id", jit=True) as http:
            response = await read(http, token, "{ organization { id viewerRole } }")
    assert response.json()["data"]["organization"] == {"id": str(other.id), "viewerRole": "MEMBER"}
    user = await User.get(external_id=subject)
    roles = (
        await Membership.filter(user_id=user.id)
        .order_by("created_at", "id")
        .values_list("organization_id", "role")
    )
    assert roles == [(mine.id, Role.OWNER), (other.id, Role.MEMBER)]


async def test_usage_csv_accepts_the_identity_provider_token(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    _, subject = await provisioned()
    with jwks_server(EC) as idp:
        async with gateway(settings, clock, idp.url) as http:
            response = await http.get(
                "/usage.csv", headers={"Authorization": f"Bearer {EC.token({'sub': subject})}"}
            )
    assert response.status_code == 200
    assert response.text.splitlines()[0] == "period_start,product,metric,workspace,used"


async def test_jit_provisions_no_one_from_an_address_whose_failures_budget_is_spent(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    """With GATEWAY_JWT_JIT, authenticating may write a user, so /graphql reads the failures
    budget before the credentials (gateway/app.py `_deferred_failures_check`)."""
    organization, _ = await provisioned()
    claims = {
        "sub": "user_blocked",
        "email": "blocked@saas.test",
        "org_id": organization.external_id,
    }
    options = {"organization_claim": "org_id", "jit": True, "jit_role": Role.MEMBER}
    with jwks_server(RSA) as idp:
        limited = replace(settings, auth_failure_limit="1/minute")
        async with gateway(limited, clock, idp.url, **options) as http:
            assert (await read(http, "not-a-token")).status_code == 401
            refused = await read(http, RSA.token(claims))
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert not await User.filter(external_id="user_blocked").exists()
