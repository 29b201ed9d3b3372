"""The typed per-request context every resolver receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from uuid import UUID

import strawberry

from billing.access import Role
from billing.clock import Clock
from payments.port import PaymentProcessor
from resolvers.api_keys import ApiKeyPrincipal
from resolvers.loaders import Loaders
from resolvers.portal_sessions import LinkOptions
from resolvers.viewer import Viewer

_NO_LINKS = LinkOptions("http://127.0.0.1:8000", 300, lambda _: False)


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
    # How portal sessions' links (GATEWAY_PORTAL_*) are made for this request, once a field
    # asks for them (`portal_links`): by default they allow nothing.
    links: Callable[[], LinkOptions] = field(default=lambda: _NO_LINKS)

    @cached_property
    def portal_links(self) -> LinkOptions:
        return self.links()

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
