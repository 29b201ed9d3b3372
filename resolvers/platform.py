"""Platform keys (ACC-6): API keys bound to no organization, with provisioning scopes only."""

from __future__ import annotations

from billing.errors import ForbiddenError, UnauthenticatedError
from resolvers.api_keys import ApiKeyPrincipal


def require_platform_scope(api_key: ApiKeyPrincipal | None, scope: str) -> ApiKeyPrincipal:
    """The platform key, if it carries `scope`; an organization's key or a user is refused."""
    if api_key is None:
        raise UnauthenticatedError(
            f"This needs a platform API key with the scope {scope}: "
            "send 'Authorization: Bearer <key>'."
        )
    if api_key.organization_id is not None:
        raise ForbiddenError(
            f"This needs a platform API key (bound to no organization) with the scope {scope}; "
            "this key belongs to an organization."
        )
    if scope not in api_key.scopes:
        raise ForbiddenError(f"This platform API key lacks the scope {scope}.")
    return api_key
