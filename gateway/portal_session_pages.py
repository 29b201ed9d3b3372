"""The HTML pages of a portal session's link (issue 14): the one that opens the billing page, and
the clear refusals of a used, expired or unknown link, in English or Italian by the browser's
Accept-Language. No stack trace and no JSON ever reaches the person who clicked the link."""

from __future__ import annotations

import json
from html import escape

from resolvers.portal_sessions import Refusal

LANGUAGES = ("en", "it")
TOKEN_KEY = "billing-gateway.token"  # portal/shared/session.js
RETURN_URL_KEY = "billing-gateway.return-url"  # portal/shared/session.js

_LABELS = {
    "en": {
        "title": "Billing",
        "opening": "Opening the billing page…",
        "noscript": "The billing page needs JavaScript: turn it on and open the link again.",
        "back": "Return to the application",
    },
    "it": {
        "title": "Fatturazione",
        "opening": "Apertura della pagina di fatturazione…",
        "noscript": "La pagina di fatturazione richiede JavaScript: attivalo e riapri il link.",
        "back": "Torna all'applicazione",
    },
}
# Each refusal's heading and what to do.
_REFUSALS: dict[str, dict[Refusal, tuple[str, str]]] = {
    "en": {
        Refusal.USED: (
            "This link has already been used",
            "Each billing link opens the billing page once. Go back to the application and open "
            "the billing page from there for a new link.",
        ),
        Refusal.EXPIRED: (
            "This link has expired",
            "Billing links are valid for a few minutes. Go back to the application and open the "
            "billing page from there for a new link.",
        ),
        Refusal.UNKNOWN: (
            "This link is not valid",
            "The link may be incomplete: copy it whole, or open the billing page from your "
            "application for a new one.",
        ),
        Refusal.NOT_A_MEMBER: (
            "You are no longer a member of this organization",
            "Ask the organization's owner to add you again, then open the billing page from the "
            "application.",
        ),
    },
    "it": {
        Refusal.USED: (
            "Questo link è già stato usato",
            "Ogni link di fatturazione apre la pagina una sola volta. Torna all'applicazione e "
            "riapri da lì la pagina di fatturazione per avere un nuovo link.",
        ),
        Refusal.EXPIRED: (
            "Questo link è scaduto",
            "I link di fatturazione valgono pochi minuti. Torna all'applicazione e riapri da lì "
            "la pagina di fatturazione per avere un nuovo link.",
        ),
        Refusal.UNKNOWN: (
            "Questo link non è valido",
            "Il link potrebbe essere incompleto: copialo per intero, oppure apri la pagina di "
            "fatturazione dalla tua applicazione per averne uno nuovo.",
        ),
        Refusal.NOT_A_MEMBER: (
            "Non fai più parte di questa organizzazione",
            "Chiedi al titolare dell'organizzazione di aggiungerti di nuovo, poi apri la pagina "
            "di fatturazione dall'applicazione.",
        ),
    },
}


def language(accept_language: str | None) -> str:
    """The first of en/it the browser prefers (RFC 9110 q-values); English otherwise."""
    best, best_q = "en", 0.0
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = _quality(params)
        # Earlier entries win ties: subtract a little per position.
        if q - position * 1e-6 > best_q:
            best, best_q = primary, q - position * 1e-6
    return best


def _quality(params: str) -> float:
    name, _, value = params.strip().partition("=")
    if name.strip().lower() != "q":
        return 1.0
    try:
        q = float(value)
    except ValueError:
        return 0.0
    return q if 0.0 <= q <= 1.0 else 0.0


def opening_page(lang: str, token: str, return_url: str) -> str:
    """Stores the session's token (and where "back to the application" leads) in sessionStorage
    by the gateway's own script (the CSP allows no inline script), then opens /billing."""
    text = _LABELS[lang]
    session = json.dumps(
        {
            "token": token,
            "returnUrl": return_url,
            "tokenKey": TOKEN_KEY,
            "returnUrlKey": RETURN_URL_KEY,
        }
    )
    head = (
        f'<meta name="billing-gateway-session" content="{escape(session, quote=True)}">'
        '<script type="module" src="/portal/session/open.js"></script>'
    )
    body = f"<p>{escape(text['opening'])}</p><noscript><p>{escape(text['noscript'])}</p></noscript>"
    return _page(lang, text["title"], head, body)


def refusal_page(lang: str, reason: Refusal, return_url: str | None) -> str:
    text = _LABELS[lang]
    heading, explanation = _REFUSALS[lang][reason]
    back = (
        f'<p><a href="{escape(return_url, quote=True)}">{escape(text["back"])}</a></p>'
        if return_url
        else ""
    )
    body = f"<h1>{escape(heading)}</h1><p>{escape(explanation)}</p>{back}"
    return _page(lang, f"{heading} · {text['title']}", "", body)


def _page(lang: str, title: str, head: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title>"
        '<link rel="stylesheet" href="/portal/session/session.css">'
        f"{head}</head><body><main>{body}</main></body></html>"
    )
