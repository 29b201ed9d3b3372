"""Portal sessions (issue 14, ACC-6): where a one-time link into the billing page may send the user
back to, and how long the link and the session it opens last (the links start with
GATEWAY_PUBLIC_URL, read in gateway/ops_settings.py).

Each value is read from the environment with the other settings; a bad one stops the start with a
message naming its variable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.settings_error import SettingsError

RETURN_URLS = "GATEWAY_PORTAL_RETURN_URLS"
LINK_SECONDS = "GATEWAY_PORTAL_LINK_SECONDS"
SESSION_SECONDS = "GATEWAY_PORTAL_SESSION_SECONDS"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class PortalSessionSettings:
    # Allowed return URLs, scheme://host[:port][/path]: a path ending in "/" allows all under it.
    return_urls: tuple[str, ...] = ()
    link_seconds: int = 300
    session_seconds: int = 3600

    def allows(self, return_url: str) -> bool:
        wanted = _parts(return_url)
        return wanted is not None and any(_within(wanted, _parts(a)) for a in self.return_urls)


def _parts(url: str) -> tuple[str, str, str] | None:
    """(scheme, host[:port], path) of an absolute http(s) URL without credentials, else None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    if any(ord(c) < 33 for c in url.strip()):  # spaces and control characters
        return None
    host = parts.hostname.lower()
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    return parts.scheme, host, parts.path or "/"


def _within(wanted: tuple[str, str, str], allowed: tuple[str, str, str] | None) -> bool:
    if allowed is None or wanted[:2] != allowed[:2]:
        return False
    path, prefix = wanted[2], allowed[2]
    return path == prefix or (prefix.endswith("/") and path.startswith(prefix))


def load_portal_session_settings(
    env: Mapping[str, str], token_max_lifetime_seconds: int
) -> PortalSessionSettings:
    session_seconds = _whole(env, SESSION_SECONDS, 3600, 60, 86_400)
    if session_seconds > token_max_lifetime_seconds:
        raise SettingsError(
            f"{SESSION_SECONDS}: expected at most GATEWAY_TOKEN_MAX_LIFETIME_SECONDS "
            f"({token_max_lifetime_seconds}), got {session_seconds}"
        )
    return PortalSessionSettings(
        return_urls=_return_urls(env.get(RETURN_URLS) or ""),
        link_seconds=_whole(env, LINK_SECONDS, 300, 30, 3600),
        session_seconds=session_seconds,
    )


def _return_urls(value: str) -> tuple[str, ...]:
    urls = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        parts = urlsplit(item)
        if _parts(item) is None or parts.query or parts.fragment:
            raise SettingsError(
                f"{RETURN_URLS}: {item!r} is not an allowed return URL: expected http(s) URLs "
                "without query or fragment, separated by commas, e.g. "
                "https://app.example.com/settings/,https://app.example.com/billing"
            )
        urls.append(item)
    return tuple(urls)


def _whole(env: Mapping[str, str], variable: str, default: int, smallest: int, largest: int) -> int:
    text = (env.get(variable) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not smallest <= int(text) <= largest:
        raise SettingsError(
            f"{variable}: expected a whole number of seconds from {smallest} to {largest}, "
            f"got {env[variable]!r}"
        )
    return int(text)
