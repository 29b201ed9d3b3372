"""Portal sessions (issue 14, ACC-6): the SaaS's backend, with a platform key of scope
portal:write, gets a one-time link into the billing page for one member of one organization."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from billing.errors import BillingError
from resolvers import portal_sessions
from resolvers.platform import require_platform_caller
from schema.audit import actor_of
from schema.context import Info
from schema.plan_change import UserError
from schema.user_errors import user_error

SCOPE = "portal:write"


@strawberry.type(description="A one-time link into the billing page; it is shown this once.")
class PortalSessionCreated:
    url: str = strawberry.field(
        description="Send the user's browser here; it opens the billing page once."
    )
    expires_at: datetime = strawberry.field(description="The link is refused after this.")


CreatePortalSessionResult = Annotated[
    PortalSessionCreated | UserError, strawberry.union("CreatePortalSessionResult")
]


@strawberry.type
class PortalSessionMutation:
    @strawberry.mutation(
        description="A one-time link into the billing page for a member of the organization "
        "(ACC-6: a platform key with portal:write). `returnUrl` must be allowed by "
        "GATEWAY_PORTAL_RETURN_URLS; the page links back to it."
    )
    async def create_portal_session(
        self, info: Info, organization_external_id: str, user_email: str, return_url: str
    ) -> CreatePortalSessionResult:
        context = info.context
        require_platform_caller(context.viewer, context.api_key, SCOPE)
        new = portal_sessions.NewPortalSession(organization_external_id, user_email, return_url)
        try:
            link = await portal_sessions.create_portal_session(
                new, context.portal_links, actor_of(context), context.clock.now()
            )
        except BillingError as error:
            return user_error(error)
        return PortalSessionCreated(url=link.url, expires_at=link.expires_at)
