"""Portal sessions (issue 14 item 4, ACC-6) through the real ASGI app: a platform key of scope
portal:write gets a one-time link into the billing page for a member of an organization; the link
opens once, before it expires, a session bound to that user and that organization."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio

from billing.clock import FixedClock
from models import AuditEntry, Membership, Organization, PortalSession, User
from resolvers.api_keys import create_api_key
from resolvers.caller_cache import forget_callers
from resolvers.portal_sessions import exchange_portal_session, secret_hash
from tests.conftest import JWT_SECRET, SEEDED_AT, Gateway, error_codes, trusted_request
from tests.test_provisioning import answer, new_organization, platform_key, run

ALLOWED = "https://app.example.com/settings/,https://app.example.com/billing"
RETURN_URL = "https://app.example.com/settings/billing?tab=plan"
VIEWER = """{ viewer { memberships { role organization { slug } } }
  organization { slug } }"""


@pytest_asyncio.fixture
async def portal(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway(GATEWAY_PORTAL_RETURN_URLS=ALLOWED) as http:
        yield http


async def two_organizations(http: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two provisioned organizations; the first's owner is also a MEMBER of the second."""
    key = await platform_key("organizations:write")
    first = answer(
        await run(http, key, "CreateOrganization", {"input": new_organization()}),
        "createOrganization",
    )["organization"]
    second = answer(
        await run(http, key, "CreateOrganization", {"input": new_organization()}),
        "createOrganization",
    )["organization"]
    owner = first["members"][0]
    added = await run(
        http,
        key,
        "AddMember",
        {
            "organizationExternalId": second["externalId"],
            "person": {"email": owner["email"], "name": owner["name"]},
            "role": "MEMBER",
        },
    )
    answer(added, "addMember")
    return first, second


async def create(
    http: httpx.AsyncClient, key: str, organization: str, email: str, return_url: str = RETURN_URL
) -> dict[str, Any]:
    variables = {
        "organizationExternalId": organization,
        "userEmail": email,
        "returnUrl": return_url,
    }
    return await run(http, key, "CreatePortalSession", variables)


def stored_session(page: str) -> dict[str, str]:
    found = re.search(r'<meta name="billing-gateway-session" content="([^"]*)">', page)
    assert found is not None, page
    session: dict[str, str] = json.loads(unescape(found.group(1)))
    return session


async def test_a_link_opens_the_billing_page_once_for_that_user_in_that_organization(
    portal: httpx.AsyncClient,
) -> None:
    first, second = await two_organizations(portal)
    email = first["members"][0]["email"]
    key = await platform_key("portal:write")
    made = answer(await create(portal, key, second["externalId"], email), "createPortalSession")
    assert made["__typename"] == "PortalSessionCreated"
    assert made["expiresAt"] == (SEEDED_AT + timedelta(seconds=300)).isoformat()
    url = made["url"]
    assert url.startswith("http://gateway.test/billing/session/")
    secret = url.rsplit("/", 1)[1]
    # Only a hash of the secret is kept.
    row = await PortalSession.get(secret_hash=secret_hash(secret))
    assert secret not in json.dumps(
        [str(v) for v in (await PortalSession.filter(id=row.id).values())[0].values()]
    )
    assert (row.return_url, row.used_at) == (RETURN_URL, None)

    checked = await portal.head(url)  # a link checker's HEAD does not spend the link
    assert checked.status_code == 200 and checked.content == b""
    opened = await portal.get(url)
    assert opened.status_code == 200
    assert opened.headers["content-type"].startswith("text/html")
    assert opened.headers["cache-control"] == "no-store"
    session = stored_session(opened.text)
    assert session["tokenKey"] == "billing-gateway.token"
    assert session["returnUrl"] == RETURN_URL
    assert 'src="/portal/session/open.js"' in opened.text
    claims = jwt.decode(session["token"], JWT_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 3600
    # Bound to the second organization, although the user owns the first one too.
    headers = {"Authorization": f"Bearer {session['token']}"}
    body = (await portal.post("/graphql", json={"query": VIEWER}, headers=headers)).json()
    assert "errors" not in body, body
    assert body["data"]["viewer"]["memberships"] == [
        {"role": "MEMBER", "organization": {"slug": second["slug"]}}
    ]
    assert body["data"]["organization"] == {"slug": second["slug"]}
    first_id = first["id"]
    other = await portal.post(
        "/graphql",
        json={"query": f'{{ organization(id: "{first_id}") {{ slug }} }}'},
        headers=headers,
    )
    assert error_codes(other.json()) == ["NOT_FOUND"]

    again = await portal.get(url)
    assert again.status_code == 410
    assert again.headers["content-type"].startswith("text/html")
    assert "This link has already been used" in again.text
    assert f'href="{RETURN_URL}"' in again.text.replace("&amp;", "&")
    assert "billing-gateway-session" not in again.text


async def test_the_session_takes_its_role_from_the_membership_of_the_moment(
    portal: httpx.AsyncClient,
) -> None:
    first, second = await two_organizations(portal)
    email = first["members"][0]["email"]
    made = answer(
        await create(portal, await platform_key("portal:write"), second["externalId"], email),
        "createPortalSession",
    )
    token = stored_session((await portal.get(made["url"])).text)["token"]
    headers = {"Authorization": f"Bearer {token}"}
    user = await User.get(email=email)
    organization = await Organization.get(external_id=second["externalId"])
    # Changed behind the gateway's back (another process); forget_callers stands for the end of
    # GATEWAY_CALLER_CACHE_SECONDS.
    await Membership.filter(user=user, organization=organization).update(role="BILLING_ADMIN")
    forget_callers()
    body = (await portal.post("/graphql", json={"query": VIEWER}, headers=headers)).json()
    assert body["data"]["viewer"]["memberships"][0]["role"] == "BILLING_ADMIN"
    await Membership.filter(user=user, organization=organization).delete()
    forget_callers()
    refused = await portal.post("/graphql", json={"query": VIEWER}, headers=headers)
    assert refused.status_code == 401
    assert "no longer belongs to" in refused.json()["errors"][0]["message"]


async def test_the_creation_is_in_the_organization_s_audit_log(portal: httpx.AsyncClient) -> None:
    first, _ = await two_organizations(portal)
    email = first["members"][0]["email"]
    key = await platform_key("portal:write")
    answer(await create(portal, key, first["externalId"], email), "createPortalSession")
    organization = await Organization.get(external_id=first["externalId"])
    entry = await AuditEntry.filter(organization=organization).order_by("-id").first()
    assert entry is not None
    assert (entry.action, entry.actor_kind) == ("createPortalSession", "API_KEY")
    assert entry.details == {"userEmail": email, "returnUrl": RETURN_URL}
    assert email in entry.summary


@pytest.mark.parametrize(
    ("accept_language", "heading"),
    [
        ("it-IT,it;q=0.9,en;q=0.8", "Questo link è scaduto"),
        ("en-GB,en;q=0.9", "This link has expired"),
        ("de-DE,de;q=0.9", "This link has expired"),
    ],
)
async def test_an_expired_link_gets_a_clear_page_in_the_browser_s_language(
    portal: httpx.AsyncClient, clock: FixedClock, accept_language: str, heading: str
) -> None:
    first, _ = await two_organizations(portal)
    email = first["members"][0]["email"]
    key = await platform_key("portal:write")
    made = answer(await create(portal, key, first["externalId"], email), "createPortalSession")
    clock.set(SEEDED_AT + timedelta(seconds=300))
    try:
        expired = await portal.get(made["url"], headers={"Accept-Language": accept_language})
    finally:
        clock.set(SEEDED_AT)
    assert expired.status_code == 410
    assert expired.headers["content-type"].startswith("text/html")
    assert f"<h1>{heading}</h1>" in expired.text
    assert "billing-gateway-session" not in expired.text
    row = await PortalSession.get(secret_hash=secret_hash(made["url"].rsplit("/", 1)[1]))
    assert row.used_at is None  # an expired link opens nothing


async def test_a_link_opened_just_before_it_expires_works(
    portal: httpx.AsyncClient, clock: FixedClock
) -> None:
    first, _ = await two_organizations(portal)
    key = await platform_key("portal:write")
    made = answer(
        await create(portal, key, first["externalId"], first["members"][0]["email"]),
        "createPortalSession",
    )
    clock.set(SEEDED_AT + timedelta(seconds=299))
    try:
        opened = await portal.get(made["url"])
    finally:
        clock.set(SEEDED_AT)
    assert opened.status_code == 200 and "billing-gateway-session" in opened.text


@pytest.mark.parametrize(
    ("path", "language", "heading"),
    [
        ("/billing/session/not-a-link", "en", "This link is not valid"),
        ("/billing/session/not-a-link", "it", "Questo link non è valido"),
        ("/billing/session/" + "x" * 500, "en", "This link is not valid"),
    ],
)
async def test_an_unknown_link_gets_a_clear_page(
    portal: httpx.AsyncClient, path: str, language: str, heading: str
) -> None:
    response = await portal.get(path, headers={"Accept-Language": language})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert f"<h1>{heading}</h1>" in response.text and f'lang="{language}"' in response.text


async def test_a_reused_link_in_italian(portal: httpx.AsyncClient) -> None:
    first, _ = await two_organizations(portal)
    key = await platform_key("portal:write")
    made = answer(
        await create(portal, key, first["externalId"], first["members"][0]["email"]),
        "createPortalSession",
    )
    assert (await portal.get(made["url"])).status_code == 200
    again = await portal.get(made["url"], headers={"Accept-Language": "it"})
    assert again.status_code == 410
    assert "<h1>Questo link è già stato usato</h1>" in again.text
    assert "Torna all'applicazione" in unescape(again.text)


async def _refused_caller(portal: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    before = await PortalSession.all().count()
    body: dict[str, Any] = (
        await portal.post(
            "/graphql",
            json=trusted_request(
                "CreatePortalSession",
                {
                    "organizationExternalId": "anything",
                    "userEmail": "owner@acme.test",
                    "returnUrl": RETURN_URL,
                },
            ),
            headers=headers,
        )
    ).json()
    assert await PortalSession.all().count() == before
    return body


async def test_a_platform_key_without_portal_write_is_refused(portal: httpx.AsyncClient) -> None:
    key = await platform_key("organizations:write", "organizations:read")
    body = await _refused_caller(portal, {"Authorization": f"Bearer {key}"})
    assert error_codes(body) == ["FORBIDDEN"]
    assert "lacks the scope portal:write" in body["errors"][0]["message"]


async def test_an_organization_s_key_is_refused(portal: httpx.AsyncClient) -> None:
    key = await create_api_key("acme", "partner", ["billing:operate"], SEEDED_AT)
    body = await _refused_caller(portal, {"Authorization": f"Bearer {key}"})
    assert error_codes(body) == ["FORBIDDEN"]
    assert "platform keys only" in body["errors"][0]["message"]


async def test_a_signed_in_user_and_an_anonymous_caller_are_refused(
    portal: httpx.AsyncClient,
) -> None:
    from tests.conftest import bearer

    signed_in = await _refused_caller(portal, await bearer("owner@acme.test"))
    assert error_codes(signed_in) == ["FORBIDDEN"]
    anonymous = await _refused_caller(portal, {})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    assert "portal:write" in anonymous["errors"][0]["message"]


@pytest.mark.parametrize(
    "return_url",
    [
        "https://evil.example.com/settings/",
        "http://app.example.com/settings/",  # another scheme
        "https://app.example.com:8443/settings/",  # another port
        "https://app.example.com/other",  # outside the allowed paths
        "https://app.example.com/billing/more",  # /billing allows that page only
        "https://app.example.com@evil.example.com/settings/",  # credentials trick
        "javascript:alert(1)",
        "/settings/",
        "",
    ],
)
async def test_a_return_url_off_the_allow_list_is_refused(
    portal: httpx.AsyncClient, return_url: str
) -> None:
    first, _ = await two_organizations(portal)
    before = await PortalSession.all().count()
    body = await create(
        portal,
        await platform_key("portal:write"),
        first["externalId"],
        first["members"][0]["email"],
        return_url,
    )
    refused = answer(body, "createPortalSession")
    assert refused["__typename"] == "UserError"
    assert (refused["code"], refused["field"]) == ("RETURN_URL_NOT_ALLOWED", "returnUrl")
    assert "GATEWAY_PORTAL_RETURN_URLS" in refused["message"]
    assert await PortalSession.all().count() == before


async def test_without_an_allow_list_every_return_url_is_refused(gateway: Gateway) -> None:
    async with gateway() as http:
        first, _ = await two_organizations(http)
        body = await create(
            http, await platform_key("portal:write"), first["externalId"], "x@initech.test"
        )
    assert answer(body, "createPortalSession")["code"] == "RETURN_URL_NOT_ALLOWED"


async def test_the_link_starts_with_gateway_public_url(gateway: Gateway) -> None:
    async with gateway(
        GATEWAY_PORTAL_RETURN_URLS=ALLOWED, GATEWAY_PUBLIC_URL="https://billing.example.com/"
    ) as http:
        first, _ = await two_organizations(http)
        body = await create(
            http,
            await platform_key("portal:write"),
            first["externalId"],
            first["members"][0]["email"],
        )
    assert answer(body, "createPortalSession")["url"].startswith(
        "https://billing.example.com/billing/session/"
    )


@pytest.mark.parametrize(
    ("organization", "email", "message"),
    [
        (None, "nobody@initech.test", "No user has the e-mail 'nobody@initech.test'"),
        (None, "owner@acme.test", "owner@acme.test is not a member of"),
        ("no-such-organization", None, "No organization has the external id"),
    ],
    ids=["unknown-user", "non-member", "unknown-organization"],
)
async def test_an_unknown_user_a_non_member_or_an_unknown_organization_is_not_found(
    portal: httpx.AsyncClient, organization: str | None, email: str | None, message: str
) -> None:
    first, _ = await two_organizations(portal)
    before = await PortalSession.all().count()
    body = await create(
        portal,
        await platform_key("portal:write"),
        organization or first["externalId"],
        email or first["members"][0]["email"],
    )
    assert error_codes(body) == ["NOT_FOUND"]
    assert message in body["errors"][0]["message"]
    assert await PortalSession.all().count() == before


async def test_two_openings_at_once_only_one_wins(portal: httpx.AsyncClient) -> None:
    # On PostgreSQL the two exchanges run on two connections at the same time; the conditional
    # UPDATE lets exactly one of them mark the link used.
    first, _ = await two_organizations(portal)
    key = await platform_key("portal:write")
    made = answer(
        await create(portal, key, first["externalId"], first["members"][0]["email"]),
        "createPortalSession",
    )
    secret = made["url"].rsplit("/", 1)[1]
    outcomes = await asyncio.gather(*(exchange_portal_session(secret, SEEDED_AT) for _ in range(2)))
    kinds = sorted(type(outcome).__name__ for outcome in outcomes)
    assert kinds == ["Exchanged", "Refused"], outcomes
    again = answer(
        await create(portal, key, first["externalId"], first["members"][0]["email"]),
        "createPortalSession",
    )
    pages = await asyncio.gather(*(portal.get(again["url"]) for _ in range(3)))
    assert sorted(page.status_code for page in pages) == [200, 410, 410]
    assert sum("billing-gateway-session" in page.text for page in pages) == 1
