"""Running the gateway (README "Operations"): log lines, who may read /metrics, and the public
address e-mails link to. Read from the environment with the other settings."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from gateway.settings_error import SettingsError


def tracing_requested(env: Mapping[str, str]) -> bool:
    """OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set, and the SDK not
    disabled (OTEL_SDK_DISABLED=true)."""
    if (env.get("OTEL_SDK_DISABLED") or "").strip().lower() == "true":
        return False
    return any((env.get(name) or "").strip() for name in _OTEL_ENDPOINTS)


_OTEL_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


class LogFormat(StrEnum):
    JSON = "json"  # one JSON object a line, for a log collector (the production default)
    TEXT = "text"  # lines a person reads in a terminal (the sandbox default)


_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# A bearer token an operator's scraper sends; long enough not to be guessed.
_MIN_METRICS_TOKEN = 16
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")


@dataclass(frozen=True)
class OpsSettings:
    log_format: LogFormat = LogFormat.TEXT
    log_level: int = logging.INFO
    # None: /metrics answers loopback callers only; else callers sending this bearer token too.
    metrics_token: str | None = None
    # The address people reach the gateway at (e-mail links); None: the served address.
    public_url: str | None = None
    # OpenTelemetry traces, when its standard variables ask for them (gateway/tracing.py).
    tracing: bool = False


def load_ops_settings(env: Mapping[str, str], *, production: bool) -> OpsSettings:
    return OpsSettings(
        log_format=_log_format(env.get("GATEWAY_LOG_FORMAT"), production),
        log_level=_log_level(env.get("GATEWAY_LOG_LEVEL")),
        metrics_token=_metrics_token(env.get("GATEWAY_METRICS_TOKEN")),
        public_url=_public_url(env.get("GATEWAY_PUBLIC_URL")),
        tracing=tracing_requested(env),
    )


def _log_format(value: str | None, production: bool) -> LogFormat:
    if value is None or not value.strip():
        return LogFormat.JSON if production else LogFormat.TEXT
    try:
        return LogFormat(value.strip().lower())
    except ValueError:
        raise SettingsError(
            f"GATEWAY_LOG_FORMAT: expected 'json' or 'text', got {value!r}"
        ) from None


def _log_level(value: str | None) -> int:
    if value is None or not value.strip():
        return logging.INFO
    name = value.strip().upper()
    if name not in _LEVELS:
        raise SettingsError(
            f"GATEWAY_LOG_LEVEL: expected one of {', '.join(_LEVELS)}, got {value!r}"
        )
    level: int = getattr(logging, name)
    return level


def _metrics_token(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    token = value.strip()
    if len(token) < _MIN_METRICS_TOKEN or not _TOKEN.fullmatch(token):
        # The value itself is a secret: the message does not repeat it.
        raise SettingsError(
            f"GATEWAY_METRICS_TOKEN: expected at least {_MIN_METRICS_TOKEN} characters of "
            "letters, digits and ._~+/=-"
        )
    return token


def _public_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    bad = parts.query or parts.fragment or parts.username is not None
    if parts.scheme not in ("http", "https") or not parts.hostname or bad:
        raise SettingsError(
            "GATEWAY_PUBLIC_URL: expected the http(s) address people reach the gateway at, "
            f"e.g. https://billing.example.com, got {value!r}"
        )
    return url
