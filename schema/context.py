"""The typed per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import strawberry

from billing.access import Role
from billing.clock import Clock
from payments.port import PaymentProcessor
from resolvers.api_keys import ApiKeyPrincipal
from resolvers.loaders import Loaders
from resolvers.portal_sessions import LinkOptions
from resolvers.viewer import Viewer


@dataclass
class Context:
    viewer: Viewer | None
    clock: Clock
    sandbox: bool
    processor: PaymentProcessor
    api_key: ApiKeyPrincipal | None = None
    public_catalog: bool = True  # ACC-3; GATEWAY_PUBLIC_CATALOG
    client_address: str | None = None  # the request's peer, for the audit log
    webhooks_allow_private: bool = False  # EVT-1; GATEWAY_WEBHOOKS_ALLOW_PRIVATE
    loaders: Loaders = field(default_factory=Loaders)
    # Portal sessions' links (GATEWAY_PORTAL_*): allows nothing unless the settings say so.
    portal_links: LinkOptions = field(
        default_factory=lambda: LinkOptions("http://127.0.0.1:8000", 300, lambda _: False)
    )

    def role_in(self, organization_id: UUID | None) -> Role | None:
        return self.viewer.role_in(organization_id) if self.viewer else None

    def require_viewer(self) -> Viewer:
        assert self.viewer is not None  # guaranteed by the field's permission class
        return self.viewer

    @property
    def active_role(self) -> Role | None:
        """The role in the caller's default organization: decides what the catalog shows."""
        return self.role_in(self.viewer.default_organization_id) if self.viewer else None


Info = strawberry.Info[Context, None]
