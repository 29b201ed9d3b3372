"""Bearer tokens: missing, malformed, expired, badly signed, or naming nobody -> UNAUTHENTICATED."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import jwt
import pytest

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.auth import ISSUER, issue_token
from gateway.settings import DEFAULT_TOKEN_MAX_LIFETIME_SECONDS, Settings
from models import User
from tests.conftest import JWT_SECRET

QUERY = {"query": "{ viewer { user { email } } }"}
TOO_LONG = (
    "The token is valid for longer than this gateway accepts "
    f"(at most {DEFAULT_TOKEN_MAX_LIFETIME_SECONDS} seconds from its issue)"
)


async def _post(client: httpx.AsyncClient, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await client.post("/graphql", json=QUERY, headers=headers)


async def test_a_valid_token(client: httpx.AsyncClient) -> None:
    user = await User.get(email="admin@acme.test")
    response = await _post(client, f"Bearer {issue_token(user.id, JWT_SECRET, 60)}")
    assert response.json() == {"data": {"viewer": {"user": {"email": "admin@acme.test"}}}}


async def test_no_token_reads_nothing(client: httpx.AsyncClient) -> None:
    response = await _post(client, None)
    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert "Authorization: Bearer" in body["errors"][0]["message"]


async def _expired() -> str:
    user = await User.get(email="owner@acme.test")
    return issue_token(user.id, JWT_SECRET, 60, now=datetime.now(UTC) - timedelta(hours=2))


async def _badly_signed() -> str:
    user = await User.get(email="owner@acme.test")
    return issue_token(user.id, "another-secret-" + "y" * 40, 60)


async def _unknown_user() -> str:
    return issue_token(uuid4(), JWT_SECRET, 60)


async def _hundred_years() -> str:
    user = await User.get(email="owner@acme.test")
    return issue_token(user.id, JWT_SECRET, 100 * 365 * 24 * 3600)


async def _a_day_and_a_second() -> str:
    user = await User.get(email="owner@acme.test")
    return issue_token(user.id, JWT_SECRET, DEFAULT_TOKEN_MAX_LIFETIME_SECONDS + 1)


async def _no_subject() -> str:
    now = datetime.now(UTC)
    return jwt.encode(
        {"iss": ISSUER, "iat": now, "exp": now + timedelta(minutes=5)},
        JWT_SECRET,
        algorithm="HS256",
    )


@pytest.mark.parametrize(
    ("make_header", "message"),
    [
        (lambda: "Token abc", "Malformed Authorization header: expected 'Bearer <token>'."),
        (lambda: "Bearer ", "Malformed Authorization header: expected 'Bearer <token>'."),
        (lambda: "Bearer not.a.jwt", "The token is not valid"),
        (_expired, "The token has expired: sign in again for a new one."),
        (_badly_signed, "The token's signature is not valid for this gateway."),
        (_unknown_user, "The token names a user that no longer exists."),
        (_no_subject, "The token is not valid"),
        (_hundred_years, TOO_LONG),
        (_a_day_and_a_second, TOO_LONG),
    ],
    ids=[
        "scheme",
        "empty",
        "garbage",
        "expired",
        "bad-signature",
        "unknown-user",
        "no-subject",
        "valid-for-100-years",
        "over-the-maximum-lifetime",
    ],
)
async def test_bad_tokens_are_refused_with_401(
    client: httpx.AsyncClient, make_header: object, message: str
) -> None:
    made = make_header()  # type: ignore[operator]
    header = made if isinstance(made, str) else f"Bearer {await made}"
    response = await _post(client, header)
    assert response.status_code == 401
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"].startswith(message)


async def test_a_token_of_the_maximum_lifetime_is_accepted(client: httpx.AsyncClient) -> None:
    user = await User.get(email="admin@acme.test")
    token = issue_token(user.id, JWT_SECRET, DEFAULT_TOKEN_MAX_LIFETIME_SECONDS)
    response = await _post(client, f"Bearer {token}")
    assert response.json() == {"data": {"viewer": {"user": {"email": "admin@acme.test"}}}}


async def test_the_maximum_lifetime_is_a_setting(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    shorter = replace(settings, token_max_lifetime_seconds=600)
    app = create_app(shorter, clock, manage_database=False)
    user = await User.get(email="admin@acme.test")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        refused = await _post(http, f"Bearer {issue_token(user.id, JWT_SECRET, 3600)}")
        accepted = await _post(http, f"Bearer {issue_token(user.id, JWT_SECRET, 600)}")
    assert refused.status_code == 401
    assert "(at most 600 seconds from its issue)" in refused.json()["errors"][0]["message"]
    assert accepted.json() == {"data": {"viewer": {"user": {"email": "admin@acme.test"}}}}
