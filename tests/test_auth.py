"""Bearer tokens: missing, malformed, expired, badly signed, or naming nobody -> UNAUTHENTICATED."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import jwt
import pytest

from gateway.auth import ISSUER, issue_token
from models import User
from tests.conftest import JWT_SECRET

QUERY = {"query": "{ viewer { user { email } } }"}


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
    ],
    ids=["scheme", "empty", "garbage", "expired", "bad-signature", "unknown-user", "no-subject"],
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
