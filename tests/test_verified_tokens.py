"""gateway/verified_tokens.py: a token verified once is not decoded again until its `exp`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest

from billing.errors import UnauthenticatedError
from gateway import auth
from gateway.auth import issue_token, verify_token
from gateway.verified_tokens import VerifiedTokens

SECRET = "verified-tokens-secret-" + "x" * 32


def test_a_verified_token_is_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    user = uuid4()
    token = issue_token(user, SECRET, 600)
    assert verify_token(token, SECRET, 3600).user_id == user

    def decode(*_: object, **__: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(jwt, "decode", decode)
    assert verify_token(token, SECRET, 3600).user_id == user
    # Another secret or lifetime limit checks the token afresh.
    with pytest.raises(AssertionError, match="decoded again"):
        verify_token(token, SECRET + "y", 3600)
    with pytest.raises(AssertionError, match="decoded again"):
        verify_token(token, SECRET, 60)


def test_refused_tokens_are_not_kept() -> None:
    token = issue_token(uuid4(), SECRET, 600)
    for _ in range(2):
        with pytest.raises(UnauthenticatedError, match="signature is not valid"):
            verify_token(token, "another-secret-" + "z" * 32, 3600)
        with pytest.raises(UnauthenticatedError, match="valid for longer"):
            verify_token(token, SECRET, 300)


def test_a_kept_token_expires_with_its_exp(monkeypatch: pytest.MonkeyPatch) -> None:
    issued = datetime.now(UTC) - timedelta(seconds=10)
    token = issue_token(uuid4(), SECRET, 20, issued)
    verify_token(token, SECRET, 3600)
    exp = int(jwt.decode(token, options={"verify_signature": False})["exp"])
    monkeypatch.setattr(time, "time", lambda: float(exp))
    assert auth._VERIFIED.get(token, SECRET, 3600) is None


def test_the_least_recently_used_token_goes_first() -> None:
    kept: VerifiedTokens[str] = VerifiedTokens(size=2)
    later = int(time.time()) + 60
    kept.put("a", "s", 1, "A", later)
    kept.put("b", "s", 1, "B", later)
    assert kept.get("a", "s", 1) == "A"
    kept.put("c", "s", 1, "C", later)
    assert (kept.get("a", "s", 1), kept.get("b", "s", 1), kept.get("c", "s", 1)) == ("A", None, "C")


def test_a_signed_token_whose_times_are_text_is_refused_not_a_crash() -> None:
    """A token signed with the secret but with `exp` as a string: 401, never a 500."""
    now = int(time.time())
    claims = {"sub": str(uuid4()), "iss": auth.ISSUER, "iat": now, "exp": str(now + 600)}
    token = jwt.encode(claims, SECRET, algorithm=auth.ALGORITHM)
    with pytest.raises(UnauthenticatedError, match="not numbers"):
        verify_token(token, SECRET, 3600)
