"""README "Operations": one log line per request with its id, the id in every line the request
caused and in the response; no token, card number or request body in any line."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.logs import REQUEST_ID, _asctime, configure_logging, write_json_line
from gateway.logs import formatter as gateway_formatter
from gateway.ops_settings import LogFormat, OpsSettings
from resolvers.api_keys import create_api_key
from tests.conftest import SEEDED_AT, bearer, token_for, trusted_request
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
CARDS = ("4242424242424242", "4000000000000341", "4242 4242 4242 4242")
REPLACE = """mutation Replace($pm: String!) { replacePaymentMethod(paymentMethodId: $pm) {
  __typename } }"""


class Captured:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def captured() -> Iterator[Captured]:
    """The gateway's own log configuration, JSON lines at DEBUG, written to a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(
        OpsSettings(log_format=LogFormat.JSON, log_level=logging.DEBUG), stream
    )
    try:
        yield Captured(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        logging.getLogger("uvicorn.access").disabled = False


async def test_a_sane_request_id_is_kept_and_returned(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "lb-7f3a.42:x"})
    assert response.headers["X-Request-ID"] == "lb-7f3a.42:x"


@pytest.mark.parametrize(
    "sent",
    [None, "", "x" * 129, "bad id", "line\nbreak", "-leading-dash", "é"],
)
async def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(
    client: httpx.AsyncClient, sent: str | None
) -> None:
    headers = {b"X-Request-ID": sent.encode("utf-8")} if sent is not None else {}
    first = (await client.get("/health", headers=headers)).headers["X-Request-ID"]
    second = (await client.get("/health", headers=headers)).headers["X-Request-ID"]
    assert first != sent and len(first) == 32 and int(first, 16) >= 0
    assert first != second  # made for each request


async def test_one_line_per_request_with_what_an_operator_needs(
    client: httpx.AsyncClient, captured: Captured
) -> None:
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    token = await token_for(owner)
    response = await client.post(
        "/graphql",
        json={"query": "query Mine { viewer { email } }"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "walk-1"},
    )
    assert response.status_code == 200
    (line,) = [r for r in captured.lines() if r["logger"] == "billing_gateway.request"]
    assert {
        k: line[k] for k in ("method", "path", "operation", "caller", "status", "request_id")
    } == {
        "method": "POST",
        "path": "/graphql",
        "operation": "Mine",
        "caller": "user",
        "status": 200,
        "request_id": "walk-1",
    }
    assert line["level"] == "INFO" and line["duration_ms"] >= 0 and line["time"]
    assert line["message"].startswith("POST /graphql Mine user -> 200 in ")


async def test_every_line_a_request_causes_carries_its_id(
    client: httpx.AsyncClient, captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An unexpected error inside the operation: logged with its traceback, and the request's id.
    def broken(*_: object) -> None:
        raise RuntimeError("the organization could not be read")

    monkeypatch.setattr("schema.query.member_organization_id", broken)
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    response = await client.post(
        "/graphql",
        json={"query": "query Broken { organization { name } }"},
        headers={**await bearer(owner), "X-Request-ID": "broken-1"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    lines = [r for r in captured.lines() if r["logger"] != "httpx"]  # the test's own client
    assert {line["request_id"] for line in lines} == {"broken-1"}
    error, request_line = lines
    assert error["level"] == "ERROR" and "the organization could not be read" in error["message"]
    assert request_line["operation"] == "Broken" and request_line["status"] == 200


async def test_an_error_outside_graphql_is_logged_with_the_request(
    client: httpx.AsyncClient, captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("no health today")

    monkeypatch.setattr("gateway.app.authenticate", broken)
    with pytest.raises(RuntimeError):
        await client.post(
            "/graphql",
            json={"query": "{ catalog { products { code } } }"},
            headers={"X-Request-ID": "crash-1"},
        )
    failure, request_line = [r for r in captured.lines() if r["logger"] != "httpx"]
    assert failure["message"] == "POST /graphql failed" and "no health today" in failure["exc_info"]
    assert request_line["status"] == 500 and request_line["level"] == "ERROR"
    assert failure["request_id"] == request_line["request_id"] == "crash-1"


async def test_a_line_break_in_a_path_does_not_make_a_line_of_its_own(
    client: httpx.AsyncClient,
) -> None:
    stream = io.StringIO()
    handler = configure_logging(OpsSettings(log_format=LogFormat.TEXT), stream)
    try:
        await client.get("/nothing%0A2026-01-01 forged line")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [line for line in stream.getvalue().splitlines() if " httpx " not in line]
    (line,) = lines
    assert "GET /nothing\\n2026-01-01 forged line anonymous -> 404 in " in line
    assert "[" in line and "] " in line  # the request id, between brackets


async def test_no_token_card_number_or_body_in_the_logs_after_a_walk(
    client: httpx.AsyncClient, captured: Captured
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    token = await token_for(owner)
    key = await create_api_key(organization.slug, "app", ["usage:write"], datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}"}
    for card in CARDS:  # a card number where a payment method id belongs: refused, not logged
        body = {"query": REPLACE, "variables": {"pm": card}}
        await client.post("/graphql", json=body, headers=headers)
    await client.get(
        "/graphql", params={"query": "{ viewer { email } }", "token": token}, headers=headers
    )
    await client.post(
        "/graphql",
        json={"query": "{ viewer { email } }"},
        headers={"Authorization": "Bearer not-a-token-" + token[:20]},
    )
    await client.post(
        "/graphql",
        json=trusted_request(
            "RecordUsage",
            {"events": [{"id": CARDS[0], "product": "email", "metric": "emails", "quantity": 1}]},
        ),
        headers={"Authorization": f"Bearer {key}"},
    )
    await client.post(
        "/graphql", content=b'{"query": "{ viewer { email } ', headers=headers
    )  # bad JSON
    await client.get(f"/invoices/{CARDS[0]}.pdf", headers=headers)
    await client.get("/metrics")
    # The gateway's lines; the test's own httpx client logs its URLs, query strings and all.
    lines = [r for r in captured.lines() if r["logger"] != "httpx"]
    assert [r["status"] for r in lines if r["logger"] == "billing_gateway.request"] == [
        200,
        200,
        200,
        200,
        401,
        200,
        400,
        404,
        200,
    ]
    text = json.dumps(lines)
    for secret in (token, token[:20], key, *CARDS, "viewer { email }"):
        assert secret not in text, secret


async def test_the_work_a_request_does_is_logged_with_its_id(
    client: httpx.AsyncClient, captured: Captured
) -> None:
    # The sandbox's test clock renews inside the request: the renewal's line carries its id.
    _, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=29), SEEDED_AT + timedelta(days=1)),
    )
    response = await client.post(
        "/graphql",
        json={"query": "mutation Advance { advanceTestClock(days: 2) { events } }"},
        headers={**await bearer(owner), "X-Request-ID": "advance-1"},
    )
    events = response.json()["data"]["advanceTestClock"]["events"]
    assert any("renewed" in event for event in events), events
    lines = [r for r in captured.lines() if r["logger"] == "billing_gateway.sandbox_clock"]
    assert [line["message"].partition(": ")[2] for line in lines] == events
    assert {line["request_id"] for line in lines} == {"advance-1"}


@pytest.mark.parametrize("operation_name", [5, True, {}, [], {"a": 1}, ["Q"]])
async def test_an_operation_name_that_is_not_a_string_is_a_bad_request_not_an_error(
    client: httpx.AsyncClient, captured: Captured, operation_name: object
) -> None:
    response = await client.post(
        "/graphql", json={"query": "query Q { __typename }", "operationName": operation_name}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert [line["status"] for line in captured.lines() if "status" in line] == [400]


@contextmanager
def gateway_handler_alone() -> Iterator[io.StringIO]:
    """The root logger with the gateway's JSON handler alone, as a served process has it (the
    test run's own capturing handlers, which pytest adds for each test, set aside)."""
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    for handler in handlers:
        root.removeHandler(handler)
    configure_logging(OpsSettings(log_format=LogFormat.JSON, log_level=logging.INFO), stream)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("uvicorn.access").disabled = False


@pytest.mark.parametrize(
    ("level", "operation"),
    [(logging.INFO, "Mine"), (logging.ERROR, None), (logging.INFO, 'é "quoted"\n')],
)
def test_the_request_line_written_directly_is_the_line_logging_writes(
    level: int, operation: str | None
) -> None:
    log = logging.getLogger("billing_gateway.request")
    fields = {"method": "POST", "path": "/graphql", "operation": operation, "caller": "user"}
    token = REQUEST_ID.set("same-1")
    try:
        with gateway_handler_alone() as stream:
            assert write_json_line(log, level, "POST /graphql -> 200", fields)
            log.log(level, "%s", "POST /graphql -> 200", extra=fields)
    finally:
        REQUEST_ID.reset(token)
    direct, logged = stream.getvalue().splitlines()
    # The same text, but for the second the time might have moved on to.
    assert json.loads(direct)["time"][:16] == json.loads(logged)["time"][:16]
    assert _without_time(direct) == _without_time(logged)
    assert list(json.loads(direct)) == [
        *("time", "level", "logger", "message", "request_id"),
        *("method", "path", "operation", "caller"),
    ]


def _without_time(line: str) -> str:
    return re.sub(r'"time": "[^"]*"', "", line)


def test_the_request_line_goes_through_logging_when_anything_else_would_see_it() -> None:
    log = logging.getLogger("billing_gateway.request")
    fields = {"status": 200}
    with gateway_handler_alone() as stream:
        assert write_json_line(log, logging.INFO, "seen", fields)  # the gateway's handler alone
        assert not write_json_line(log, logging.DEBUG, "dropped", fields)  # below the level
        logging.getLogger().addHandler(other := logging.NullHandler())
        assert not write_json_line(log, logging.INFO, "another handler", fields)
        logging.getLogger().removeHandler(other)
        log.addFilter(drop := logging.Filter("elsewhere"))
        assert not write_json_line(log, logging.INFO, "filtered", fields)
        log.removeFilter(drop)
        log.propagate = False
        assert not write_json_line(log, logging.INFO, "not propagated", fields)
        log.propagate = True
        configure_logging(OpsSettings(log_format=LogFormat.TEXT), stream)
        assert not write_json_line(log, logging.INFO, "text", fields)
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == ["seen"]


def test_a_stream_that_fails_is_left_to_logging_to_report() -> None:
    log = logging.getLogger("billing_gateway.request")
    with gateway_handler_alone() as stream:
        stream.close()  # writing to it raises ValueError
        assert not write_json_line(log, logging.INFO, "lost", {"status": 200})


async def test_a_served_request_line_is_written_directly(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_record(*_: object, **__: object) -> None:
        raise AssertionError("the request line went through logging")

    monkeypatch.setattr(logging.getLogger("billing_gateway.request"), "log", no_record)
    with gateway_handler_alone() as stream:
        response = await client.get("/health", headers={"X-Request-ID": "direct-1"})
    assert response.status_code == 200
    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    (line,) = [line for line in lines if line["logger"] == "billing_gateway.request"]
    assert line["request_id"] == "direct-1" and line["status"] == 200 and line["path"] == "/health"


def test_the_line_s_time_is_the_formatter_s_for_the_second_it_is_written_in() -> None:
    formatter = gateway_formatter(LogFormat.JSON)
    assert formatter.datefmt is not None
    for _ in range(3):  # the second may turn between the two
        before = time.time()
        kept = _asctime(formatter.datefmt, formatter.converter)
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
        if int(before) == int(record.created):
            assert kept == formatter.formatTime(record, formatter.datefmt)
            return
    raise AssertionError("the second turned three times in a row")
