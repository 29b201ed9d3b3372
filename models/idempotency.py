"""Idempotency keys (IDM-1): one row per caller and key, claimed before the request runs."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class IdempotencyKey(Model):
    id = fields.BigIntField(primary_key=True)
    # "user:<id>" or "api-key:<id>": each caller has keys of its own.
    caller = fields.CharField(max_length=64)
    key = fields.CharField(max_length=255)
    fingerprint = fields.CharField(max_length=64)
    state = fields.CharField(max_length=16)
    # The whole response body as sent, kept as text so a replay is byte for byte the same.
    response = fields.TextField(null=True)
    created_at = fields.DatetimeField(db_index=True)  # the billing clock purges by age

    class Meta:
        table = "idempotency_key"
        unique_together = (("caller", "key"),)
