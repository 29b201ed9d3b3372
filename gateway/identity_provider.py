"""Tokens signed by the SaaS's identity provider (PRV-2): RS256/ES256 checked against its JWKS.

PyJWKClient keeps the key set cached and refetches it once when a token names a key id it does
not know (a rotation). Its fetch is synchronous (urllib), so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError, PyJWKSetError

from billing.errors import UnauthenticatedError, UnavailableError
from gateway.settings import IdentityProviderSettings

ALGORITHMS = ("RS256", "ES256")
# The identity provider's clock and ours may disagree by a few seconds (iat, exp).
CLOCK_SKEW_SECONDS = 30
_FETCH_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class IdentityClaims:
    """What a verified token says about its user, by the configured claim names."""

    external_id: str
    email: str | None
    name: str | None
    organization_external_id: str | None


class IdentityProvider:
    def __init__(self, settings: IdentityProviderSettings) -> None:
        self.settings = settings
        self._keys = PyJWKClient(
            settings.jwks_url,
            timeout=_FETCH_TIMEOUT_SECONDS,
            cooldown_duration=settings.refresh_cooldown_seconds,
        )

    async def verify(self, token: str, max_lifetime_seconds: int) -> IdentityClaims:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or not kid:
            raise UnauthenticatedError(
                "The token names no signing key ('kid' in its header): the identity provider's "
                "tokens must."
            )
        key = await asyncio.to_thread(self._signing_key, kid)
        claims = self._decode(token, key)
        lifetime = claims["exp"] - claims["iat"]
        if not isinstance(lifetime, int | float) or lifetime > max_lifetime_seconds:
            raise UnauthenticatedError(
                f"The identity provider's token is valid for longer than this gateway accepts "
                f"(at most {max_lifetime_seconds} seconds from its issue): issue shorter tokens "
                "or raise GATEWAY_TOKEN_MAX_LIFETIME_SECONDS."
            )
        return self._claims(claims)

    def _signing_key(self, kid: str) -> PyJWK:
        """The key `kid` names, from the cached set or, for an unknown kid, a fresh one."""
        try:
            self._keys.get_signing_keys()  # the cached set; an unreachable JWKS fails here
            return self._keys.get_signing_key(kid)
        except (PyJWKClientConnectionError, OSError) as error:  # OSError: a connection cut mid-read
            raise UnavailableError(
                f"The identity provider's keys (GATEWAY_JWT_JWKS_URL) could not be fetched: "
                f"{error}. Try again shortly."
            ) from None
        except (PyJWKClientError, PyJWKSetError, json.JSONDecodeError, UnicodeError) as error:
            # PyJWKClient says so in these words when a refetched set still lacks the kid.
            if isinstance(error, PyJWKClientError) and "Unable to find a signing key" in str(error):
                raise UnauthenticatedError(
                    f"The token is signed by an unknown key (kid {kid!r}): the identity "
                    "provider's key set does not hold it, even after a refresh."
                ) from None
            raise UnavailableError(
                f"The identity provider's key set (GATEWAY_JWT_JWKS_URL) is not a usable JWKS: "
                f"{error}. Try again shortly."
            ) from None

    def _decode(self, token: str, key: PyJWK) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name] if key.algorithm_name in ALGORITHMS else [],
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthenticatedError(
                "The identity provider's token has expired: sign in again for a new one."
            ) from None
        except jwt.InvalidIssuerError:
            raise UnauthenticatedError(
                f"The token's issuer is not the one this gateway trusts "
                f"(expected {self.settings.issuer!r}, GATEWAY_JWT_ISSUER)."
            ) from None
        except jwt.InvalidAudienceError:
            raise UnauthenticatedError(
                f"The token is meant for another audience (expected {self.settings.audience!r}, "
                "GATEWAY_JWT_AUDIENCE)."
            ) from None
        except jwt.InvalidSignatureError:
            raise UnauthenticatedError(
                "The token's signature does not match the identity provider's key it names."
            ) from None
        except jwt.InvalidTokenError as error:
            raise UnauthenticatedError(f"The token is not valid: {error}.") from None
        return claims

    def _claims(self, claims: dict[str, Any]) -> IdentityClaims:
        user_claim = self.settings.user_claim
        external_id = claims.get(user_claim)
        if not isinstance(external_id, str) or not external_id.strip():
            raise UnauthenticatedError(
                f"The token does not name a user: its '{user_claim}' claim "
                "(GATEWAY_JWT_USER_CLAIM) is missing or empty."
            )
        organization = (
            claims.get(self.settings.organization_claim)
            if self.settings.organization_claim
            else None
        )
        return IdentityClaims(
            external_id=external_id.strip(),
            email=_text(claims.get(self.settings.email_claim)),
            name=_text(claims.get("name")),
            organization_external_id=_text(organization),
        )


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


@lru_cache(maxsize=8)
def identity_provider(settings: IdentityProviderSettings) -> IdentityProvider:
    """One client, and so one key cache, per configuration for the process's life."""
    return IdentityProvider(settings)
