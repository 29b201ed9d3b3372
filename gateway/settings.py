"""Settings read from the environment once, at start, with errors that name the variable."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from billing.access import Role
from gateway.cache_settings import CacheSettings, load_cache_settings
from gateway.client_address import IPNetwork, parse_networks
from gateway.data_dir import data_dir, default_database_url
from gateway.fixed_clock_setting import load_fixed_clock
from gateway.limit_settings import RequestLimits, load_request_limits
from gateway.ops_settings import OpsSettings, load_ops_settings
from gateway.portal_session_settings import PortalSessionSettings, load_portal_session_settings
from gateway.portal_settings import load_stripe_publishable_key
from gateway.settings_error import SettingsError as SettingsError

DEFAULT_DATABASE_URL = default_database_url()  # under the data directory (gateway/data_dir.py)
DEFAULT_CATALOG_FILE = Path(__file__).parent / "data" / "catalog.toml"
DEFAULT_DEMO_FILE = Path(__file__).parent / "data" / "demo-organizations.toml"
_DATABASE_SCHEMES = ("sqlite://", "postgres://", "postgresql://")
_MIN_SECRET_LENGTH = 32
DEFAULT_TOKEN_MAX_LIFETIME_SECONDS = 24 * 3600
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# Weighted units (a request weighs its estimated cost, at least 1) per caller and window.
DEFAULT_RATE_LIMIT = "600/minute"
DEFAULT_RATE_LIMIT_ANONYMOUS = "120/minute"
DEFAULT_AUTH_FAILURE_LIMIT = "20/minute"
DEFAULT_REDIS_KEY_PREFIX = "billing-gateway"
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_RATE = re.compile(r"([1-9]\d{0,8})\s*(?:/|per)\s*(second|minute|hour|day)", re.IGNORECASE)


class Mode(StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


@dataclass(frozen=True)
class IdentityProviderSettings:
    """The SaaS's identity provider whose RS256/ES256 tokens are accepted too (PRV-2)."""

    jwks_url: str
    issuer: str
    audience: str
    user_claim: str = "sub"
    email_claim: str = "email"
    organization_claim: str | None = None
    jit: bool = False  # create unknown users (and memberships) from their tokens
    jit_role: Role = Role.MEMBER
    # PyJWKClient's: the least time between two refreshes forced by unknown key ids.
    refresh_cooldown_seconds: float = 30.0


@dataclass(frozen=True)
class Settings:
    mode: Mode
    database_url: str
    jwt_secret: str
    host: str
    port: int
    catalog_file: Path
    demo_file: Path
    token_ttl_seconds: int = 12 * 3600
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None  # another Stripe-compatible server (localstripe in tests)
    stripe_webhook_secret: str | None = None
    smtp_host: str | None = None  # without it, notices wait in the outbox (NOT-1)
    smtp_port: int = 25
    smtp_from: str = "billing@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # Browsers (README "Browsers"): origins allowed by CORS, who may frame the gateway's pages,
    # and whether the catalog answers without a token (ACC-3).
    cors_origins: tuple[str, ...] = ()
    frame_ancestors: str = "'none'"
    public_catalog: bool = True
    # GATEWAY_GRAPHIQL, GATEWAY_INTROSPECTION (anonymous), GATEWAY_TOKEN_MAX_LIFETIME_SECONDS
    graphiql: bool = True
    anonymous_introspection: bool = True
    token_max_lifetime_seconds: int = DEFAULT_TOKEN_MAX_LIFETIME_SECONDS
    # What one request may cost (README "Limits").
    limits: RequestLimits = field(default_factory=RequestLimits)
    # What each process keeps between requests, and how long (README "Configuration").
    caches: CacheSettings = field(default_factory=CacheSettings)
    # Shared state of every process (README "Rate limits"): rate-limit counters and registered
    # persisted queries live in Redis when REDIS_URL is set, in each process otherwise.
    redis_url: str | None = None  # also checked by GET /ready
    redis_key_prefix: str = DEFAULT_REDIS_KEY_PREFIX
    rate_limit: str = DEFAULT_RATE_LIMIT
    rate_limit_anonymous: str = DEFAULT_RATE_LIMIT_ANONYMOUS
    auth_failure_limit: str = DEFAULT_AUTH_FAILURE_LIMIT
    trusted_proxies: tuple[IPNetwork, ...] = ()
    identity_provider: IdentityProviderSettings | None = None
    # One-time links into the billing page (gateway/portal_session_settings.py).
    portal_sessions: PortalSessionSettings = field(default_factory=PortalSessionSettings)
    # EVT-1: webhook endpoints on private or loopback addresses (tests, private networks).
    webhooks_allow_private: bool = False
    fixed_clock: datetime | None = None  # GATEWAY_FIXED_CLOCK (gateway/fixed_clock_setting.py)
    stripe_publishable_key: str | None = None  # for Stripe.js on the billing page
    # Logs, /metrics and e-mail links (README "Operations").
    ops: OpsSettings = field(default_factory=OpsSettings)

    @property
    def is_sandbox(self) -> bool:
        return self.mode is Mode.SANDBOX

    @property
    def public_url(self) -> str:
        """GATEWAY_PUBLIC_URL, or the address `serve` listens at."""
        return self.ops.public_url or f"http://{self.host}:{self.port}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    mode = _mode(env.get("GATEWAY_MODE", Mode.SANDBOX.value))
    token_max_lifetime_seconds = _seconds(
        "GATEWAY_TOKEN_MAX_LIFETIME_SECONDS",
        env.get("GATEWAY_TOKEN_MAX_LIFETIME_SECONDS"),
        DEFAULT_TOKEN_MAX_LIFETIME_SECONDS,
    )
    return Settings(
        mode=mode,
        database_url=_database_url(env.get("DATABASE_URL") or default_database_url(env)),
        jwt_secret=_jwt_secret(env.get("GATEWAY_JWT_SECRET"), mode, data_dir(env)),
        host=env.get("GATEWAY_HOST", "127.0.0.1") or "127.0.0.1",
        port=_port(env.get("GATEWAY_PORT", "8000")),
        catalog_file=_existing_file("CATALOG_FILE", env.get("CATALOG_FILE"), DEFAULT_CATALOG_FILE),
        demo_file=_existing_file("DEMO_FILE", env.get("DEMO_FILE"), DEFAULT_DEMO_FILE),
        stripe_api_key=_stripe_key(env, mode),
        stripe_api_base=env.get("STRIPE_API_BASE") or None,
        stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=_int("SMTP_PORT", env.get("SMTP_PORT", "25")),
        smtp_from=env.get("SMTP_FROM") or "billing@localhost",
        smtp_username=env.get("SMTP_USERNAME") or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        smtp_starttls=(env.get("SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes")),
        cors_origins=_cors_origins(env.get("GATEWAY_CORS_ORIGINS", "")),
        frame_ancestors=_frame_ancestors(env.get("GATEWAY_FRAME_ANCESTORS", "")),
        public_catalog=_flag("GATEWAY_PUBLIC_CATALOG", env.get("GATEWAY_PUBLIC_CATALOG"), True),
        webhooks_allow_private=_flag(
            "GATEWAY_WEBHOOKS_ALLOW_PRIVATE", env.get("GATEWAY_WEBHOOKS_ALLOW_PRIVATE"), False
        ),
        # Sandbox: GraphiQL and introspection for everyone; production: both off unless asked for.
        graphiql=_flag("GATEWAY_GRAPHIQL", env.get("GATEWAY_GRAPHIQL"), mode is Mode.SANDBOX),
        anonymous_introspection=_flag(
            "GATEWAY_INTROSPECTION", env.get("GATEWAY_INTROSPECTION"), mode is Mode.SANDBOX
        ),
        token_max_lifetime_seconds=token_max_lifetime_seconds,
        portal_sessions=load_portal_session_settings(env, token_max_lifetime_seconds),
        limits=load_request_limits(env),
        caches=load_cache_settings(env),
        redis_url=_redis_url(env.get("REDIS_URL")),
        redis_key_prefix=env.get("GATEWAY_REDIS_KEY_PREFIX") or DEFAULT_REDIS_KEY_PREFIX,
        rate_limit=_rate("GATEWAY_RATE_LIMIT", env.get("GATEWAY_RATE_LIMIT"), DEFAULT_RATE_LIMIT),
        rate_limit_anonymous=_rate(
            "GATEWAY_RATE_LIMIT_ANONYMOUS",
            env.get("GATEWAY_RATE_LIMIT_ANONYMOUS"),
            DEFAULT_RATE_LIMIT_ANONYMOUS,
        ),
        auth_failure_limit=_rate(
            "GATEWAY_AUTH_FAILURE_LIMIT",
            env.get("GATEWAY_AUTH_FAILURE_LIMIT"),
            DEFAULT_AUTH_FAILURE_LIMIT,
        ),
        trusted_proxies=_trusted_proxies(env.get("GATEWAY_TRUSTED_PROXIES", "")),
        identity_provider=_identity_provider(env),
        fixed_clock=load_fixed_clock(env, sandbox=mode is Mode.SANDBOX),
        stripe_publishable_key=load_stripe_publishable_key(env),
        ops=load_ops_settings(env, production=mode is Mode.PRODUCTION),
    )


_IDP_VARIABLES = (
    "GATEWAY_JWT_ISSUER",
    "GATEWAY_JWT_AUDIENCE",
    "GATEWAY_JWT_USER_CLAIM",
    "GATEWAY_JWT_EMAIL_CLAIM",
    "GATEWAY_JWT_ORGANIZATION_CLAIM",
    "GATEWAY_JWT_JIT",
    "GATEWAY_JWT_JIT_ROLE",
)


def _identity_provider(env: Mapping[str, str]) -> IdentityProviderSettings | None:
    url = (env.get("GATEWAY_JWT_JWKS_URL") or "").strip()
    if not url:
        if stray := [name for name in _IDP_VARIABLES if (env.get(name) or "").strip()]:
            raise SettingsError(f"{stray[0]}: only meaningful with GATEWAY_JWT_JWKS_URL set")
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"GATEWAY_JWT_JWKS_URL: expected an http(s) URL of the identity provider's JWKS, "
            f"e.g. https://login.example.com/.well-known/jwks.json, got {url!r}"
        )
    return IdentityProviderSettings(
        jwks_url=url,
        issuer=_required_with_jwks("GATEWAY_JWT_ISSUER", env),
        audience=_required_with_jwks("GATEWAY_JWT_AUDIENCE", env),
        user_claim=_claim("GATEWAY_JWT_USER_CLAIM", env, "sub") or "sub",
        email_claim=_claim("GATEWAY_JWT_EMAIL_CLAIM", env, "email") or "email",
        organization_claim=_claim("GATEWAY_JWT_ORGANIZATION_CLAIM", env, None),
        jit=_flag("GATEWAY_JWT_JIT", env.get("GATEWAY_JWT_JIT"), False),
        jit_role=_jit_role(env.get("GATEWAY_JWT_JIT_ROLE")),
    )


def _required_with_jwks(variable: str, env: Mapping[str, str]) -> str:
    value = (env.get(variable) or "").strip()
    if not value:
        raise SettingsError(f"{variable}: required when GATEWAY_JWT_JWKS_URL is set")
    return value


def _claim(variable: str, env: Mapping[str, str], default: str | None) -> str | None:
    value = (env.get(variable) or "").strip()
    if not value:
        return default
    if not re.fullmatch(r"[A-Za-z0-9_:/.\-]{1,200}", value):
        raise SettingsError(f"{variable}: expected a claim name such as 'sub', got {value!r}")
    return value


def _jit_role(value: str | None) -> Role:
    if value is None or not value.strip():
        return Role.MEMBER
    choices = [role.value for role in Role if role is not Role.OWNER]
    try:
        role = Role(value.strip().upper())
    except ValueError:
        role = None
    if role is None or role is Role.OWNER:
        raise SettingsError(
            f"GATEWAY_JWT_JIT_ROLE: expected one of {', '.join(choices)} (never OWNER: an "
            f"organization has exactly one owner), got {value!r}"
        )
    return role


def _flag(variable: str, value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise SettingsError(f"{variable}: expected 'true' or 'false', got {value!r}")


def _seconds(variable: str, value: str | None, default: int) -> int:
    if value is None or not value.strip():
        return default
    if not value.strip().isdigit() or int(value) < 60:
        raise SettingsError(
            f"{variable}: expected a whole number of seconds, 60 or more, got {value!r}"
        )
    return int(value)


def _int(variable: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise SettingsError(f"{variable}: expected a whole number from 1 to 65535, got {value!r}")
    return int(value)


def _stripe_key(env: Mapping[str, str], mode: Mode) -> str | None:
    """PAYMENT_PROCESSOR chooses; by default Stripe when STRIPE_API_KEY is set, else the sandbox."""
    key = env.get("STRIPE_API_KEY") or None
    choice = (env.get("PAYMENT_PROCESSOR") or ("stripe" if key else "sandbox")).strip().lower()
    if choice not in ("stripe", "sandbox"):
        raise SettingsError(f"PAYMENT_PROCESSOR: expected 'stripe' or 'sandbox', got {choice!r}")
    if choice == "stripe" and not key:
        raise SettingsError("STRIPE_API_KEY: required when PAYMENT_PROCESSOR=stripe")
    if choice == "sandbox" and mode is Mode.PRODUCTION:
        raise SettingsError(
            "PAYMENT_PROCESSOR: the sandbox processor cannot take real money; set STRIPE_API_KEY"
        )
    return key if choice == "stripe" else None


def _mode(value: str) -> Mode:
    try:
        return Mode(value.strip().lower())
    except ValueError:
        raise SettingsError(
            f"GATEWAY_MODE: expected 'sandbox' or 'production', got {value!r}"
        ) from None


def _database_url(value: str) -> str:
    if not value.startswith(_DATABASE_SCHEMES):
        raise SettingsError(
            f"DATABASE_URL: expected a URL starting with sqlite:// or postgres://, got {value!r}"
        )
    if value.startswith("postgresql://"):
        return "postgres://" + value.removeprefix("postgresql://")
    return value


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise SettingsError(f"GATEWAY_PORT: expected a whole number from 1 to 65535, got {value!r}")
    return int(value)


def _jwt_secret(value: str | None, mode: Mode, directory: Path) -> str:
    if value:
        if len(value) < _MIN_SECRET_LENGTH:
            raise SettingsError(
                f"GATEWAY_JWT_SECRET: expected at least {_MIN_SECRET_LENGTH} characters, "
                f"got {len(value)}"
            )
        return value
    if mode is Mode.PRODUCTION:
        raise SettingsError("GATEWAY_JWT_SECRET: required when GATEWAY_MODE=production")
    return _sandbox_secret(directory)


def _sandbox_secret(directory: Path) -> str:
    """A random secret kept under var/ so that `serve` and `token` agree without configuration."""
    path = directory / "sandbox-jwt-secret"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret, encoding="utf-8")
    path.chmod(0o600)
    return secret


def _existing_file(variable: str, value: str | None, default: Path) -> Path:
    if not value:
        return default
    path = Path(value)
    if not path.is_file():
        raise SettingsError(f"{variable}: no file at {value!r}")
    return path


def _cors_origins(value: str) -> tuple[str, ...]:
    """Comma-separated origins, each as a browser sends it in `Origin` (scheme://host[:port])."""
    origins = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        origin = _origin(item)
        if origin is None:
            raise SettingsError(
                f"GATEWAY_CORS_ORIGINS: {item!r} is not an origin: expected scheme://host[:port] "
                "with no path, e.g. https://app.example.com,http://localhost:3000"
            )
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def _origin(text: str) -> str | None:
    """The origin as browsers serialise it (lower case, no default port), or None."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "*" in text:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    if port == {"http": 80, "https": 443}[parts.scheme]:
        port = None
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port is not None else "")


# A CSP source expression: a keyword, a scheme, or a host source with optional wildcard and port.
_FRAME_SOURCE = re.compile(
    r"'self'|https?:|(https?://)?(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?",
    re.IGNORECASE,
)


def _frame_ancestors(value: str) -> str:
    """The CSP frame-ancestors sources: 'none' (the default), or 'self' and/or origins."""
    sources = value.replace(",", " ").split()
    if not sources or sources == ["'none'"]:
        return "'none'"
    for source in sources:
        if not _FRAME_SOURCE.fullmatch(source):
            raise SettingsError(
                f"GATEWAY_FRAME_ANCESTORS: {source!r} is not a frame-ancestors source: expected "
                "'none', 'self' or origins separated by spaces, e.g. 'self' https://app.example.com"
            )
    return " ".join(sources)


def _redis_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not value.strip().startswith(_REDIS_SCHEMES):
        raise SettingsError(
            f"REDIS_URL: expected a URL starting with redis://, rediss:// or unix://, got {value!r}"
        )
    return value.strip()


def _rate(variable: str, value: str | None, default: str) -> str:
    """A budget such as "600/minute": a whole number of units per second, minute, hour or day."""
    if value is None or not value.strip():
        return default
    match = _RATE.fullmatch(value.strip())
    if match is None:
        raise SettingsError(
            f"{variable}: expected a budget such as 600/minute (a whole number from 1, then "
            f"/second, /minute, /hour or /day), got {value!r}"
        )
    return f"{int(match.group(1))}/{match.group(2).lower()}"


def _trusted_proxies(value: str) -> tuple[IPNetwork, ...]:
    try:
        return parse_networks(value)
    except ValueError as error:
        raise SettingsError(
            f"GATEWAY_TRUSTED_PROXIES: {error}: expected IP addresses or CIDR networks separated "
            "by commas, e.g. 10.0.0.0/8,192.168.1.7"
        ) from None
