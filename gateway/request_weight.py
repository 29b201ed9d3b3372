"""The weight of one GraphQL request in rate-limit units (README "Rate limits")."""

from __future__ import annotations

from typing import Any


def request_weight(document: str | None, variables: dict[str, Any] | None, anonymous: bool) -> int:
    """The request's estimated cost (issue 12, item 1), at least 1.

    `document` is the text that will run (a persisted query already resolved), `variables` as
    sent. Until the cost estimate is wired in, here and only here, every request weighs 1."""
    return 1
