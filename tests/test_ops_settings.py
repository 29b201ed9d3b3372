"""Logs, /metrics and e-mail links settings (gateway/ops_settings.py): defaults by mode, and a bad
value named at start."""

from __future__ import annotations

import logging

import pytest

from gateway.ops_settings import LogFormat
from gateway.settings import SettingsError, load_settings

SECRET = "s" * 40
PRODUCTION = {
    "GATEWAY_MODE": "production",
    "STRIPE_API_KEY": "sk_live_1",
    "GATEWAY_JWT_SECRET": SECRET,
}


def test_defaults_by_mode() -> None:
    sandbox = load_settings({"GATEWAY_JWT_SECRET": SECRET}).ops
    production = load_settings(PRODUCTION).ops
    assert (sandbox.log_format, production.log_format) == (LogFormat.TEXT, LogFormat.JSON)
    assert sandbox.log_level == production.log_level == logging.INFO
    assert sandbox.metrics_token is None and sandbox.public_url is None


def test_values_are_read() -> None:
    ops = load_settings(
        {
            **PRODUCTION,
            "GATEWAY_LOG_FORMAT": "Text",
            "GATEWAY_LOG_LEVEL": "debug",
            "GATEWAY_METRICS_TOKEN": "t" * 16,
            "GATEWAY_PUBLIC_URL": "https://billing.example.com/",
        }
    ).ops
    assert ops.log_format is LogFormat.TEXT and ops.log_level == logging.DEBUG
    assert ops.metrics_token == "t" * 16 and ops.public_url == "https://billing.example.com"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GATEWAY_LOG_FORMAT", "xml", "GATEWAY_LOG_FORMAT: expected 'json' or 'text', got 'xml'"),
        (
            "GATEWAY_LOG_LEVEL",
            "loud",
            "GATEWAY_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, got 'loud'",
        ),
        (
            "GATEWAY_METRICS_TOKEN",
            "short",
            "GATEWAY_METRICS_TOKEN: expected at least 16 characters",
        ),
        (
            "GATEWAY_METRICS_TOKEN",
            "has spaces in it, sixteen+",
            "GATEWAY_METRICS_TOKEN: expected at least 16",
        ),
        (
            "GATEWAY_PUBLIC_URL",
            "billing.example.com",
            "GATEWAY_PUBLIC_URL: expected the http(s) address",
        ),
        (
            "GATEWAY_PUBLIC_URL",
            "ftp://x.example",
            "GATEWAY_PUBLIC_URL: expected the http(s) address",
        ),
        (
            "GATEWAY_PUBLIC_URL",
            "https://user:secret@billing.example.com",
            "GATEWAY_PUBLIC_URL: expected the http(s) address",
        ),
        (
            "GATEWAY_PUBLIC_URL",
            "https://billing.example.com/#top",
            "GATEWAY_PUBLIC_URL: expected the http(s) address",
        ),
    ],
)
def test_bad_values_are_named(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"GATEWAY_JWT_SECRET": SECRET, variable: value})
    assert str(refused.value).startswith(message)
    if variable == "GATEWAY_METRICS_TOKEN":
        assert value not in str(refused.value)  # a secret is not repeated
