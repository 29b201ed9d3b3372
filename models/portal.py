"""One-time links into the billing page (ACC-6, issue 14): made by the SaaS's backend with a
platform key, exchanged once for a short-lived token bound to one user of one organization."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.lifecycle import ApiKey
from models.organization import Organization, User


class PortalSession(Model):
    id = fields.UUIDField(primary_key=True)
    # Only the SHA-256 of the link's secret: a copy of this table opens nothing.
    secret_hash = fields.CharField(max_length=64, unique=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="portal_sessions", on_delete=fields.CASCADE
    )
    organization_id: UUID
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "gateway.User", related_name="portal_sessions", on_delete=fields.CASCADE
    )
    user_id: UUID
    api_key: fields.ForeignKeyNullableRelation[ApiKey] = fields.ForeignKeyField(
        "gateway.ApiKey", related_name="portal_sessions", null=True, on_delete=fields.SET_NULL
    )
    api_key_id: UUID | None
    return_url = fields.CharField(max_length=2000)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)  # set once, by the one exchange that wins

    class Meta:
        table = "portal_session"
