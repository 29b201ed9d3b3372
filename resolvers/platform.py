"""Platform keys (ACC-6): the SaaS's backend, bound to no organization, provisioning only."""

from __future__ import annotations

from billing.errors import ForbiddenError, UnauthenticatedError
from resolvers.api_keys import ApiKeyPrincipal
from resolvers.viewer import Viewer


def require_platform_scope(api_key: ApiKeyPrincipal | None, scope: str) -> ApiKeyPrincipal:
    """The platform key when it carries `scope`; anyone else is refused with a reason to act on."""
    if api_key is None:
        raise UnauthenticatedError(
            f"This operation needs a platform API key with the scope {scope}: send "
            "'Authorization: Bearer <key>' (billing-gateway api-key create --platform "
            f"--scope {scope})."
        )
    if api_key.organization_id is not None:
        raise ForbiddenError(
            "This operation is for platform keys only, bound to no organization (ACC-6); this key "
            "belongs to one organization. Make one with 'billing-gateway api-key create "
            f"--platform --scope {scope}'."
        )
    if scope not in api_key.scopes:
        raise ForbiddenError(
            f"This platform key lacks the scope {scope} (it has "
            f"{', '.join(sorted(api_key.scopes))}): make a key with --scope {scope}."
        )
    return api_key


def require_platform_caller(
    viewer: Viewer | None, api_key: ApiKeyPrincipal | None, scope: str
) -> ApiKeyPrincipal:
    """As require_platform_scope; a signed-in user is known, so refused as FORBIDDEN."""
    if viewer is not None:
        raise ForbiddenError(
            f"Signed-in users cannot run this: it is for the SaaS's backend, with a platform API "
            f"key of scope {scope} (ACC-6)."
        )
    return require_platform_scope(api_key, scope)
