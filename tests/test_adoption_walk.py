"""Adopting the gateway, end to end (issue 13): a fresh served gateway with no demo data; the SaaS
backend's script (examples/provision.py) registers its webhook endpoint and provisions an
organization with a platform key made by the CLI; an app's RS256 token from the SaaS's identity
provider reads the subscription; the trial's `subscription.created` reaches the backend, signed.
PRV-1, PRV-2, EVT-1, ACC-6. The served gateway runs on SQLite (a file under the test's directory)
whatever DATABASE_URL the suite has."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.identity_provider import AUDIENCE, ISSUER, SigningKey, jwks_server
from tests.test_cli import run
from tests.test_provision_example import SCRIPT, served_gateway
from tests.webhook_receiver import Receiver, running_receiver, verify

pytestmark = pytest.mark.slow  # starts a gateway, an identity provider and a receiver

SCOPES = ("organizations:write", "organizations:read", "webhooks:write")
READ = "{ organization { name subscription { status items { plan { code } } } } }"
TICKS = 5  # `billing-gateway tick` runs before giving up on the webhook


def _provision(cwd: Path, url: str, webhook_url: str) -> subprocess.CompletedProcess[str]:
    scopes = [argument for scope in SCOPES for argument in ("--scope", scope)]
    made = run(cwd, "api-key", "create", "--platform", *scopes)
    assert made.returncode == 0, made.stderr
    env = {**os.environ, "BILLING_GATEWAY_PLATFORM_KEY": made.stdout.strip()}
    command = [sys.executable, str(SCRIPT), "--url", url, "--webhook-url", webhook_url]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def _delivered(cwd: Path, receiver: Receiver, event_type: str) -> bool:
    """Runs the billing clock once at a time (serve's own runs every 60 s) until the receiver
    has `event_type`; False after TICKS runs."""
    for _ in range(TICKS):
        ticked = run(cwd, "tick", GATEWAY_WEBHOOKS_ALLOW_PRIVATE="true")
        assert ticked.returncode == 0, ticked.stderr
        if any(event["type"] == event_type for event in receiver.events()):
            return True
        time.sleep(0.5)
    return False


def test_a_saas_adopts_a_fresh_gateway_rule_prv_1_prv_2_evt_1(tmp_path: Path) -> None:
    key = SigningKey.rsa("saas-key-1")
    with (
        jwks_server(key) as idp,
        running_receiver() as receiver,
        served_gateway(
            tmp_path,
            GATEWAY_JWT_JWKS_URL=idp.url,
            GATEWAY_JWT_ISSUER=ISSUER,
            GATEWAY_JWT_AUDIENCE=AUDIENCE,
            GATEWAY_WEBHOOKS_ALLOW_PRIVATE="true",
        ) as url,
    ):
        provisioned = _provision(tmp_path, url, receiver.url)
        print(provisioned.stdout)
        assert provisioned.returncode == 0, provisioned.stderr
        assert "TRIALING on marketing plus" in provisioned.stdout
        assert (
            "peter@initech.test (OWNER), joanna@initech.test (BILLING_ADMIN)" in provisioned.stdout
        )
        assert "workspaces: support" in provisioned.stdout
        secret = re.search(r"shown this once, store it now\): (whsec_\S+)", provisioned.stdout)
        assert secret is not None, provisioned.stdout

        token = key.token({"sub": "u-1", "email": "peter@initech.test"})
        answer = httpx.post(
            f"{url}/graphql",
            json={"query": READ},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        print(answer.text)
        assert answer.status_code == 200, answer.text
        organization = answer.json()["data"]["organization"]
        assert organization["name"] == "Initech"
        assert organization["subscription"]["status"] == "TRIALING"
        plans = [item["plan"]["code"] for item in organization["subscription"]["items"]]
        assert plans == ["plus"]

        assert _delivered(tmp_path, receiver, "subscription.created"), receiver.received
        created = next(
            item for item in receiver.received if item.event["type"] == "subscription.created"
        )
        header = created.headers["Billing-Gateway-Signature"]
        assert verify(created.body, header, secret.group(1)), header
        assert not verify(created.body, header, "whsec_not-the-secret")
        assert created.event["data"]["subscription"]["status"] == "TRIALING"

        again = _provision(tmp_path, url, receiver.url)
        print(again.stdout)
        assert again.returncode == 0, again.stderr
        assert again.stdout.count("already done (a resend)") == 4
        assert "webhook endpoint: already registered (a resend)" in again.stdout
        assert "whsec_" not in again.stdout
