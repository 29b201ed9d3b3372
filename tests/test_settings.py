"""Settings from the environment, validated at start with the bad variable named."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing.access import Role
from gateway.settings import IdentityProviderSettings, Mode, SettingsError, load_settings

SECRET = "s" * 40


def test_defaults_are_the_embedded_sandbox() -> None:
    settings = load_settings({"GATEWAY_JWT_SECRET": SECRET})
    assert settings.mode is Mode.SANDBOX
    checkout = Path(__file__).resolve().parent.parent  # `make serve` runs from a checkout
    assert settings.database_url == f"sqlite://{checkout}/var/billing-gateway.sqlite3"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


PRODUCTION = {"GATEWAY_MODE": "production", "STRIPE_API_KEY": "sk_live_1"}


def test_graphiql_and_anonymous_introspection_are_off_in_production_unless_asked_for() -> None:
    sandbox = load_settings({"GATEWAY_JWT_SECRET": SECRET})
    assert (sandbox.graphiql, sandbox.anonymous_introspection) == (True, True)
    production = load_settings({"GATEWAY_JWT_SECRET": SECRET, **PRODUCTION})
    assert (production.graphiql, production.anonymous_introspection) == (False, False)
    opened = load_settings(
        {
            "GATEWAY_JWT_SECRET": SECRET,
            **PRODUCTION,
            "GATEWAY_GRAPHIQL": "true",
            "GATEWAY_INTROSPECTION": "yes",
        }
    )
    assert (opened.graphiql, opened.anonymous_introspection) == (True, True)


def test_token_lifetime_is_at_most_a_day_by_default() -> None:
    assert load_settings({"GATEWAY_JWT_SECRET": SECRET}).token_max_lifetime_seconds == 86400
    settings = load_settings(
        {"GATEWAY_JWT_SECRET": SECRET, "GATEWAY_TOKEN_MAX_LIFETIME_SECONDS": "3600"}
    )
    assert settings.token_max_lifetime_seconds == 3600


def test_stripe_is_chosen_by_its_key() -> None:
    assert (
        load_settings({"GATEWAY_JWT_SECRET": SECRET, "STRIPE_API_KEY": "sk_test_1"}).stripe_api_key
        == "sk_test_1"
    )
    sandbox = load_settings(
        {
            "GATEWAY_JWT_SECRET": SECRET,
            "STRIPE_API_KEY": "sk_test_1",
            "PAYMENT_PROCESSOR": "sandbox",
        }
    )
    assert sandbox.stripe_api_key is None


def test_postgresql_scheme_is_accepted() -> None:
    settings = load_settings(
        {"GATEWAY_JWT_SECRET": SECRET, "DATABASE_URL": "postgresql://u@h:5432/db"}
    )
    assert settings.database_url == "postgres://u@h:5432/db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GATEWAY_MODE": "staging"},
            "GATEWAY_MODE: expected 'sandbox' or 'production', got 'staging'",
        ),
        (
            {"DATABASE_URL": "mysql://x"},
            "DATABASE_URL: expected a URL starting with sqlite:// or postgres://",
        ),
        (
            {"GATEWAY_PORT": "eighty"},
            "GATEWAY_PORT: expected a whole number from 1 to 65535, got 'eighty'",
        ),
        (
            {"GATEWAY_PORT": "70000"},
            "GATEWAY_PORT: expected a whole number from 1 to 65535, got '70000'",
        ),
        (
            {"GATEWAY_MODE": "production", "GATEWAY_JWT_SECRET": ""},
            "GATEWAY_JWT_SECRET: required when",
        ),
        ({"GATEWAY_JWT_SECRET": "short"}, "GATEWAY_JWT_SECRET: expected at least 32 characters"),
        (
            {"CATALOG_FILE": "/nonexistent/catalog.toml"},
            "CATALOG_FILE: no file at '/nonexistent/catalog.toml'",
        ),
        (
            {"PAYMENT_PROCESSOR": "paypal"},
            "PAYMENT_PROCESSOR: expected 'stripe' or 'sandbox', got 'paypal'",
        ),
        ({"PAYMENT_PROCESSOR": "stripe"}, "STRIPE_API_KEY: required when PAYMENT_PROCESSOR=stripe"),
        (
            {"GATEWAY_MODE": "production"},
            "PAYMENT_PROCESSOR: the sandbox processor cannot take real money",
        ),
        (
            {"GATEWAY_GRAPHIQL": "maybe"},
            "GATEWAY_GRAPHIQL: expected 'true' or 'false', got 'maybe'",
        ),
        (
            {"GATEWAY_INTROSPECTION": "2"},
            "GATEWAY_INTROSPECTION: expected 'true' or 'false', got '2'",
        ),
        (
            {"GATEWAY_TOKEN_MAX_LIFETIME_SECONDS": "1d"},
            "GATEWAY_TOKEN_MAX_LIFETIME_SECONDS: expected a whole number of seconds, 60 or more",
        ),
        (
            {"GATEWAY_TOKEN_MAX_LIFETIME_SECONDS": "10"},
            "GATEWAY_TOKEN_MAX_LIFETIME_SECONDS: expected a whole number of seconds, 60 or more",
        ),
    ],
)
def test_bad_variables_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"GATEWAY_JWT_SECRET": SECRET, **env})
    assert str(raised.value).startswith(message)


def test_browser_settings_default_to_no_cors_no_framing_and_a_public_catalog() -> None:
    settings = load_settings({"GATEWAY_JWT_SECRET": SECRET})
    assert settings.cors_origins == ()
    assert settings.frame_ancestors == "'none'"
    assert settings.public_catalog is True


def test_browser_settings_are_read_as_browsers_send_them() -> None:
    settings = load_settings(
        {
            "GATEWAY_JWT_SECRET": SECRET,
            "GATEWAY_CORS_ORIGINS": " http://localhost:3000, https://App.Example.com:443,",
            "GATEWAY_FRAME_ANCESTORS": "'self' https://*.example.com",
            "GATEWAY_PUBLIC_CATALOG": "false",
        }
    )
    assert settings.cors_origins == ("http://localhost:3000", "https://app.example.com")
    assert settings.frame_ancestors == "'self' https://*.example.com"
    assert settings.public_catalog is False


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GATEWAY_CORS_ORIGINS", "*", "GATEWAY_CORS_ORIGINS: '*' is not an origin"),
        (
            "GATEWAY_CORS_ORIGINS",
            "https://app.example.com/pricing",
            "GATEWAY_CORS_ORIGINS: 'https://app.example.com/pricing' is not an origin",
        ),
        ("GATEWAY_CORS_ORIGINS", "localhost:3000", "GATEWAY_CORS_ORIGINS: 'localhost:3000' is not"),
        ("GATEWAY_CORS_ORIGINS", "http://x:99999", "GATEWAY_CORS_ORIGINS: 'http://x:99999' is not"),
        (
            "GATEWAY_FRAME_ANCESTORS",
            "https://a.example; script-src *",
            "GATEWAY_FRAME_ANCESTORS: 'https://a.example;' is not a frame-ancestors source",
        ),
        ("GATEWAY_PUBLIC_CATALOG", "maybe", "GATEWAY_PUBLIC_CATALOG: expected 'true' or 'false'"),
    ],
)
def test_bad_browser_settings_are_named(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"GATEWAY_JWT_SECRET": SECRET, variable: value})
    assert str(raised.value).startswith(message)


IDP = {
    "GATEWAY_JWT_SECRET": SECRET,
    "GATEWAY_JWT_JWKS_URL": "https://login.saas.test/.well-known/jwks.json",
    "GATEWAY_JWT_ISSUER": "https://login.saas.test/",
    "GATEWAY_JWT_AUDIENCE": "billing-gateway",
}


def test_identity_provider_settings_rule_prv_2() -> None:
    assert load_settings({"GATEWAY_JWT_SECRET": SECRET}).identity_provider is None
    provider = load_settings(IDP).identity_provider
    assert provider == IdentityProviderSettings(
        jwks_url="https://login.saas.test/.well-known/jwks.json",
        issuer="https://login.saas.test/",
        audience="billing-gateway",
    )
    assert (provider.user_claim, provider.email_claim, provider.jit, provider.jit_role) == (
        "sub",
        "email",
        False,
        Role.MEMBER,
    )
    mapped = load_settings(
        {
            **IDP,
            "GATEWAY_JWT_USER_CLAIM": "uid",
            "GATEWAY_JWT_ORGANIZATION_CLAIM": "https://saas.test/org",
            "GATEWAY_JWT_JIT": "true",
            "GATEWAY_JWT_JIT_ROLE": "billing_admin",
        }
    ).identity_provider
    assert mapped is not None
    assert (mapped.user_claim, mapped.organization_claim, mapped.jit, mapped.jit_role) == (
        "uid",
        "https://saas.test/org",
        True,
        Role.BILLING_ADMIN,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {**IDP, "GATEWAY_JWT_ISSUER": ""},
            "GATEWAY_JWT_ISSUER: required when GATEWAY_JWT_JWKS_URL is set",
        ),
        (
            {**IDP, "GATEWAY_JWT_AUDIENCE": " "},
            "GATEWAY_JWT_AUDIENCE: required when GATEWAY_JWT_JWKS_URL is set",
        ),
        (
            {**IDP, "GATEWAY_JWT_JWKS_URL": "file:///etc/passwd"},
            "GATEWAY_JWT_JWKS_URL: expected an http(s) URL",
        ),
        (
            {**IDP, "GATEWAY_JWT_JIT_ROLE": "OWNER"},
            "GATEWAY_JWT_JIT_ROLE: expected one of BILLING_ADMIN, ADMIN, MEMBER (never OWNER",
        ),
        ({**IDP, "GATEWAY_JWT_JIT_ROLE": "boss"}, "GATEWAY_JWT_JIT_ROLE: expected one of"),
        ({**IDP, "GATEWAY_JWT_JIT": "sometimes"}, "GATEWAY_JWT_JIT: expected 'true' or 'false'"),
        ({**IDP, "GATEWAY_JWT_USER_CLAIM": "a b"}, "GATEWAY_JWT_USER_CLAIM: expected a claim"),
        (
            {"GATEWAY_JWT_SECRET": SECRET, "GATEWAY_JWT_ISSUER": "https://login.saas.test/"},
            "GATEWAY_JWT_ISSUER: only meaningful with GATEWAY_JWT_JWKS_URL set",
        ),
    ],
    ids=[
        "no-issuer",
        "no-audience",
        "not-http",
        "owner",
        "unknown-role",
        "jit-flag",
        "claim-name",
        "issuer-alone",
    ],
)
def test_bad_identity_provider_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(env)
    assert str(raised.value).startswith(message)
