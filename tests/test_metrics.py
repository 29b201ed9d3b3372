"""GET /metrics (README "Operations"): Prometheus' format, read by loopback callers or with
GATEWAY_METRICS_TOKEN; what a short walk leaves in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from billing.notifications import NotificationKind
from billing.schedule import RESCHEDULE
from models import Subscription
from resolvers.api_keys import create_api_key
from resolvers.backlog import read_backlog
from resolvers.notices import notify
from tests.conftest import SEEDED_AT, Gateway, trusted_request
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
TOKEN = "scrape-" + "k" * 24


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _scrape(
    client: httpx.AsyncClient,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


async def test_a_walk_shows_in_the_metrics(client: httpx.AsyncClient) -> None:
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    # A period ended two hours before the clock's now and not yet renewed: the clock lags.
    lagging, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=30, hours=2), SEEDED_AT - timedelta(hours=2)),
    )
    await Subscription.filter(organization_id=lagging.id).update(
        next_due_at=SEEDED_AT - timedelta(hours=2)  # as the schedule stores it
    )
    await notify(organization.id, NotificationKind.USAGE_THRESHOLD, "75 % reached", SEEDED_AT)
    before = await _scrape(client)
    key = await create_api_key(organization.slug, "app", ["usage:write"], datetime.now(UTC))
    events = [
        {"id": f"m-{n}", "product": "email", "metric": "emails", "quantity": 1} for n in range(3)
    ]
    for _ in range(2):  # the second batch: three duplicates, none recorded
        response = await client.post(
            "/graphql",
            json=trusted_request("RecordUsage", {"events": events}),
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200
    await client.post("/graphql", json={"query": "query Mine { catalog { products { code } } }"})
    after = await _scrape(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert grew("billing_gateway_usage_events_recorded_total") == 3
    assert (
        grew("billing_gateway_http_requests_total", operation="graphql RecordUsage", status="200")
        == 2
    )
    # A caller's own operation name is not a label of its own (the labels stay a bounded set).
    assert grew("billing_gateway_http_requests_total", operation="graphql other", status="200") == 1
    assert (
        grew("billing_gateway_http_request_duration_seconds_count", operation="graphql RecordUsage")
        == 2
    )
    assert grew("billing_gateway_http_requests_total", operation="/metrics", status="200") == 1
    assert after[("billing_gateway_clock_lag_seconds", ())] >= 2 * 3600
    assert after[("billing_gateway_outbox_depth", (("outbox", "email"),))] >= 1
    # The clock is the tests' fixed one: the notice was made "now".
    assert after[("billing_gateway_outbox_oldest_age_seconds", (("outbox", "email"),))] >= 0
    assert ("billing_gateway_outbox_depth", (("outbox", "webhook"),)) in after


async def test_charges_are_counted_by_outcome(client: httpx.AsyncClient) -> None:
    from payments.port import ChargeRequest
    from payments.sandbox import SandboxProcessor
    from resolvers.work_metrics import CHARGES, counted_charge

    before = CHARGES.labels("failed")._value.get()
    request = ChargeRequest(
        customer_id=None,
        reference="r",
        payment_method_id="pm_card_chargeDeclined",
        amount=1000,
        currency="EUR",
        idempotency_key="metrics-declined-1",
        description="Invoice T-1",
    )
    result = await counted_charge(SandboxProcessor(), request)
    assert result.status.value == "FAILED"
    assert CHARGES.labels("failed")._value.get() == before + 1
    scraped = await _scrape(client)
    assert scraped[("billing_gateway_charges_total", (("outcome", "failed"),))] >= 1


async def test_only_loopback_callers_read_the_metrics_by_default(gateway: Gateway) -> None:
    async with gateway(peer="10.1.2.3") as remote:
        refused = await remote.get("/metrics")
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "GATEWAY_METRICS_TOKEN" in refused.json()["errors"][0]["message"]
    async with gateway(peer="127.0.0.1") as local:
        # A proxy on the same host forwards others' requests: not a loopback caller.
        forwarded = await local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert forwarded.status_code == 403
        assert (await local.get("/metrics")).status_code == 200


async def test_with_a_token_only_its_bearers_read_the_metrics(gateway: Gateway) -> None:
    async with gateway(peer="10.1.2.3", GATEWAY_METRICS_TOKEN=TOKEN) as remote:
        assert (await remote.get("/metrics")).status_code == 403
        wrong = {"Authorization": "Bearer " + TOKEN[:-1] + "x"}
        assert (await remote.get("/metrics", headers=wrong)).status_code == 403
        right = await remote.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200 and "billing_gateway_http_requests_total" in right.text
    async with gateway(peer="127.0.0.1", GATEWAY_METRICS_TOKEN=TOKEN) as local:
        assert (await local.get("/metrics")).status_code == 403  # the token, from everyone


async def test_a_rate_limited_request_is_counted(gateway: Gateway) -> None:
    from gateway.metrics import RATE_LIMITED

    before = RATE_LIMITED._value.get()
    async with gateway(peer="10.9.9.9", GATEWAY_RATE_LIMIT_ANONYMOUS="1/minute") as http:
        statuses = [
            (await http.post("/graphql", json={"query": "{ __typename }"})).status_code
            for _ in range(3)
        ]
    assert statuses.count(429) >= 1
    assert RATE_LIMITED._value.get() - before == statuses.count(429)


# Long before any other test's due times: only this test's rows fall inside (RESCHEDULE, NOW].
NOW = datetime(1990, 1, 1, tzinfo=UTC)


async def test_the_clock_lag_is_the_age_of_the_oldest_stored_due_time(
    client: httpx.AsyncClient,
) -> None:
    # Any due work counts (here a renewal notice's time, the period ends weeks later); a time not
    # yet reached (a claim's lease, a later notice) does not; RESCHEDULE rows count as due now.
    organizations = [
        (await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD))[0]
        for _ in range(3)
    ]
    due_times = [NOW - timedelta(hours=3), NOW - timedelta(minutes=5), NOW + timedelta(hours=1)]
    for organization, due in zip(organizations, due_times, strict=True):
        await Subscription.filter(organization_id=organization.id).update(next_due_at=due)
    backlog = await read_backlog(NOW)
    assert backlog.oldest_due == NOW - timedelta(hours=3)
    # Renewed (its next time stored in the future): the next oldest is the lag.
    await Subscription.filter(organization_id=organizations[0].id).update(
        next_due_at=NOW + timedelta(days=30)
    )
    assert (await read_backlog(NOW)).oldest_due == NOW - timedelta(minutes=5)
    # Only rows to be rescheduled are left due: due now, no lag (not "nothing due").
    await Subscription.filter(organization_id=organizations[1].id).update(next_due_at=RESCHEDULE)
    assert (await read_backlog(NOW)).oldest_due == NOW
    # Served: the gauge reads the same rule at the gateway's clock.
    await Subscription.filter(organization_id=organizations[1].id).update(
        next_due_at=SEEDED_AT - timedelta(days=400)
    )
    scraped = await _scrape(client)
    assert scraped[("billing_gateway_clock_lag_seconds", ())] >= 400 * 86400
    await Subscription.filter(organization_id=organizations[1].id).update(
        next_due_at=SEEDED_AT + timedelta(days=30)
    )
