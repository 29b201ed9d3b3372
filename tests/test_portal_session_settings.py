"""The portal sessions' settings (GATEWAY_PORTAL_*, GATEWAY_PUBLIC_URL): the return-URL allow-list,
the lifetimes and bad values, and the language of the link's pages."""

from __future__ import annotations

import pytest

from gateway.portal_session_pages import language
from gateway.portal_session_settings import PortalSessionSettings, load_portal_session_settings
from gateway.settings_error import SettingsError

ALLOWED = PortalSessionSettings(
    return_urls=("https://app.example.com/settings/", "http://localhost:3000/billing")
)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://app.example.com/settings/", True),
        ("https://app.example.com/settings/billing?tab=plan#top", True),
        ("https://APP.example.com:443/settings/x", True),  # the same origin, spelled otherwise
        ("http://localhost:3000/billing", True),
        ("http://localhost:3000/billing?from=portal", True),
        ("https://app.example.com/settings", False),  # above the allowed path
        ("https://app.example.com/settingsx/", False),
        ("http://localhost:3000/billing/more", False),  # a page, not a prefix
        ("http://localhost:3001/billing", False),
        ("https://app.example.com.evil.test/settings/", False),
        ("https://user@app.example.com/settings/", False),
        ("https://app.example.com/settings/ x", False),
        ("ftp://app.example.com/settings/", False),
        ("https://app.example.com:99999/settings/", False),
        ("not a url", False),
    ],
)
def test_the_return_url_allow_list(url: str, allowed: bool) -> None:
    assert ALLOWED.allows(url) is allowed


def test_defaults_allow_no_return_url() -> None:
    settings = load_portal_session_settings({}, 86_400)
    assert settings == PortalSessionSettings()
    assert (settings.link_seconds, settings.session_seconds) == (300, 3600)
    assert not settings.allows("https://app.example.com/")


def test_values_are_read() -> None:
    settings = load_portal_session_settings(
        {
            "GATEWAY_PORTAL_RETURN_URLS": " https://a.example.com/ , ,http://b.example.com/x",
            "GATEWAY_PORTAL_LINK_SECONDS": "120",
            "GATEWAY_PORTAL_SESSION_SECONDS": "900",
        },
        86_400,
    )
    assert settings.return_urls == ("https://a.example.com/", "http://b.example.com/x")
    assert (settings.link_seconds, settings.session_seconds) == (120, 900)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_PORTAL_RETURN_URLS": "app.example.com"}, "GATEWAY_PORTAL_RETURN_URLS: "),
        ({"GATEWAY_PORTAL_RETURN_URLS": "https://a.example.com/?x=1"}, "without query"),
        ({"GATEWAY_PORTAL_LINK_SECONDS": "5"}, "GATEWAY_PORTAL_LINK_SECONDS: expected"),
        ({"GATEWAY_PORTAL_LINK_SECONDS": "soon"}, "from 30 to 3600"),
        ({"GATEWAY_PORTAL_SESSION_SECONDS": "7200"}, "at most GATEWAY_TOKEN_MAX_LIFETIME"),
    ],
)
def test_bad_values_stop_the_start_naming_their_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("?", r"\?")):
        load_portal_session_settings(env, 3600)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("it", "it"),
        ("it-IT,it;q=0.9,en-US;q=0.8,en;q=0.7", "it"),
        ("en-US,en;q=0.9,it;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,it;q=0.5", "it"),  # the first of the two the browser accepts
        ("en;q=0.2,it;q=0.4", "it"),
        ("de", "en"),
        ("it;q=0", "en"),
        ("it;q=nonsense", "en"),
    ],
)
def test_the_link_pages_language(accept_language: str | None, expected: str) -> None:
    assert language(accept_language) == expected
