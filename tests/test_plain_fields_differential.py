"""schema/plain_fields.py and schema/resolver_fields.py against Strawberry's stock execution
context and resolvers: every document is run twice through the real app, once as served
(PlainFieldsExecution, the written-out resolvers, invoices answered from their rows) and
once with StrawberryGraphQLCoreExecutionContext and Strawberry's own resolvers swapped in, and the two
answers (data, errors with their messages, paths, locations and extensions) must be identical.
The documents: the billing page's and the partners' trusted documents, hand-written ones for
the risky cases (permissions, aliases, merged selections, directives, fragments, enums,
DateTime, introspection), and queries generated from the schema by hypothesis-graphql, as a
member, a billing admin, an owner and the organization's and the platform's API keys. A toy
schema covers what the gateway's data never produces (a permission on an attribute, a null for
a non-null field, an Exception value); tests/test_resolver_fields.py has its own for the
resolver fields."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from enum import Enum
from typing import Any

import graphql
import httpx
import pytest
import pytest_asyncio
import strawberry
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import queries
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.trusted_documents import OPERATIONS, PORTAL_OPERATIONS, document_hash
from models import Organization
from resolvers.api_keys import ORGANIZATION_SCOPES, create_api_key
from schema import STRAWBERRY_RESOLVERS, invoice_answers, plain_selections
from schema import schema as gateway_schema
from schema.input_limits import _checked
from schema.plain_fields import PlainFieldsExecution
from tests.conftest import SEEDED_AT, persisted, token_for
from tests.factories import member_of, organization_with
from tests.test_fuzz import CUSTOM_SCALARS, FUZZ_SETTINGS

# `schema.plain_fields` is also the name of a function `schema/__init__.py` imports
plain_fields_module = importlib.import_module("schema.plain_fields")

# ---------------------------------------------------------------------------------------------
# The gateway, through its HTTP endpoint


@contextmanager
def _stock_execution() -> Iterator[None]:
    """Strawberry's execution context, and its own resolvers for the fields
    schema/resolver_fields.py writes out (behind the same argument guard)."""
    written_out = [(field, field.resolve) for field, _ in STRAWBERRY_RESOLVERS]
    gateway_schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    setattr(invoice_answers.PLANS, "plan", _no_plan)  # noqa: B010  # an instance attribute
    for field, strawberry_resolve in STRAWBERRY_RESOLVERS:
        field.resolve = (
            _checked(strawberry_resolve, field.args) if field.args else strawberry_resolve
        )
    try:
        yield
    finally:
        gateway_schema.execution_context_class = PlainFieldsExecution
        del invoice_answers.PLANS.plan  # the class's method again
        for field, resolve in written_out:
            field.resolve = resolve


def _no_plan(*_: Any) -> None:
    return None


class ShortcutCount:
    """How many leaves the shortcut answered, one by one (schema/plain_fields.py) or in a plain
    selection's reader (schema/plain_selections.py), so a comparison is known not to be
    vacuous."""

    def __init__(self) -> None:
        self.leaves = 0
        self.in_readers = 0

    def __call__(self, *args: Any) -> Any:
        self.leaves += 1
        return _real_coerced(*args)

    def in_reader(self, *args: Any) -> Any:
        self.leaves += 1
        self.in_readers += 1
        return _real_leaf(*args)


_real_coerced = plain_fields_module._coerced
_real_leaf = plain_selections._leaf


@pytest.fixture
def shortcut_count(monkeypatch: pytest.MonkeyPatch) -> ShortcutCount:
    counter = ShortcutCount()
    monkeypatch.setattr(plain_fields_module, "_coerced", counter)
    monkeypatch.setattr(plain_selections, "_leaf", counter.in_reader)
    return counter


async def _both_ways(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    assert gateway_schema.execution_context_class is PlainFieldsExecution
    shortcut = await client.post("/graphql", json=body, headers=headers)
    with _stock_execution():
        stock = await client.post("/graphql", json=body, headers=headers)
    assert shortcut.status_code == stock.status_code, (body, shortcut.text, stock.text)
    answer: dict[str, Any] = shortcut.json()
    expected: dict[str, Any] = stock.json()
    return answer, expected


async def _assert_same(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    answer, expected = await _both_ways(client, body, headers)
    assert _comparable(answer) == _comparable(expected), (body, answer, expected)
    return answer


def _comparable(answer: dict[str, Any]) -> tuple[str, list[str]]:
    """The data byte for byte (json.dumps keeps the order of keys) and each error whole
    (message, locations, path, extensions) but those inside a nulled part (`_under_a_null`).
    The errors are sorted: fields resolved concurrently
    report theirs in the order their awaits end, which on PostgreSQL varies from one run of the
    same document to the next with the stock execution alone."""
    rest = {key: value for key, value in answer.items() if key != "errors"}
    data = answer.get("data")
    return json.dumps(rest), sorted(
        json.dumps(error)
        for error in answer.get("errors") or []
        if not _under_a_null(error.get("path") or [], data)
    )


def _under_a_null(path: list[str | int], data: Any) -> bool:
    """Whether an error's field lies inside a part of the answer that is null. Which errors of
    such a part are reported is a race in graphql-core, with the stock execution too: once one
    field's error nulls the part, the answer may be built before or after its other fields fail
    (seen on PostgreSQL). The data, nulled part included, is still compared whole."""
    node = data
    for key in path[:-1]:
        if node is None:
            return True
        node = node[int(key)] if isinstance(node, list) else node.get(key)
    return False


def _query_documents() -> dict[str, str]:
    """The trusted documents that are queries, by file name."""
    documents = {}
    for directory in (PORTAL_OPERATIONS, OPERATIONS):
        for path in sorted(directory.glob("*.graphql")):
            text = path.read_text()
            operations = [
                d
                for d in graphql.parse(text).definitions
                if isinstance(d, graphql.OperationDefinitionNode)
            ]
            if all(o.operation is graphql.OperationType.QUERY for o in operations):
                documents[path.stem] = text
    return documents


QUERY_DOCUMENTS = _query_documents()
# Variables the documents need to reach past their arguments into the data.
VARIABLES: dict[str, dict[str, Any]] = {
    "PreviewPlanChange": {"input": {"product": "email", "plan": "email-5000"}},
    "WebhookDeliveries": {"endpointId": "1"},
}
DEMO_USERS = ("member@acme.test", "admin@acme.test", "billing@acme.test", "owner@acme.test")


async def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_billing_page_documents_are_there() -> None:
    assert {"BillingShell", "BillingPlan", "InvoicesSection", "UsageSection"} <= set(
        QUERY_DOCUMENTS
    )
    assert {"Entitlements", "ListOrganizations", "AuditLog"} <= set(QUERY_DOCUMENTS)


async def test_trusted_documents_answer_the_same_for_every_demo_role(
    client: httpx.AsyncClient, shortcut_count: ShortcutCount
) -> None:
    forbidden = 0
    for email in DEMO_USERS:
        headers = await _bearer(await token_for(email))
        for name, document in QUERY_DOCUMENTS.items():
            body = {"query": document, "variables": VARIABLES.get(name, {})}
            answer = await _assert_same(client, body, headers)
            codes = [e.get("extensions", {}).get("code") for e in answer.get("errors") or []]
            forbidden += codes.count("FORBIDDEN")
    assert shortcut_count.leaves > 1000  # the shortcut answered most leaves
    assert shortcut_count.in_readers > 500  # most of them in plain selections' readers
    assert forbidden > 0  # the member's refusals were compared too


async def test_trusted_documents_answer_the_same_for_api_keys(
    client: httpx.AsyncClient, shortcut_count: ShortcutCount
) -> None:
    period = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=period
    )
    organization_key = await create_api_key(
        organization.slug, "differential", sorted(ORGANIZATION_SCOPES), SEEDED_AT
    )
    platform_key = await create_api_key(
        None, "differential", ["organizations:read", "audit:read", "webhooks:write"], SEEDED_AT
    )
    answered = 0
    for key in (organization_key, platform_key):
        for name, document in QUERY_DOCUMENTS.items():
            body = {
                "variables": VARIABLES.get(name, {}),
                "extensions": persisted(document_hash(document)),
            }
            answer = await _assert_same(client, body, await _bearer(key))
            answered += answer.get("data") is not None
    assert answered > 0
    assert shortcut_count.leaves > 0


# Aliases, one field asked twice with different sub-selections (merged), @skip/@include, a
# fragment and an inline fragment on a type, __typename, enums, DateTime, Money objects and the
# permission-protected fields (creditBalance, invoices, paymentClientSecret, disputed).
RISKY = """
query Risky($yes: Boolean!, $no: Boolean!) {
  organization {
    ...Org
    creditBalance { amount currency }
    balance: creditBalance { amount }
    subscription {
      status
      state: status
      billingInterval
      currentPeriodEnd
      nextBillingDate @include(if: $yes)
      trialEndsAt @skip(if: $yes)
      items { plan { code name } plan { seatsIncluded } product { code } seats }
      recurringAmount { amount } recurringAmount { currency __typename }
    }
    invoices(first: 5) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          __typename
          id
          number
          kind
          status
          total { amount } total { currency }
          due: amountDue { amount currency }
          issuedAt
          paidAt @skip(if: $no)
          paymentClientSecret
          disputed
          disputes { status }
          ... on Invoice { discountTotal { amount } issuedAt }
        }
      }
    }
    creditNotes { totalCount edges { node { id total { amount } } } }
  }
  viewer { user { email name } memberships { role organization { slug } } }
  __type(name: "Invoice") { name kind fields { name type { name kind } } }
}
fragment Org on Organization { id slug name currency viewerRole __typename }
"""


async def test_risky_selections_answer_the_same_for_every_role(
    client: httpx.AsyncClient, shortcut_count: ShortcutCount
) -> None:
    period = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=period, credit_balance=1500
    )
    member = await member_of(organization)
    answers = {}
    for email in (*DEMO_USERS, owner, member):
        for variables in ({"yes": True, "no": False}, {"yes": False, "no": True}):
            body = {"query": RISKY, "variables": variables}
            headers = await _bearer(await token_for(email))
            answers[email] = await _assert_same(client, body, headers)
    assert shortcut_count.leaves > 0
    # The member is refused every billing field, the same way both ways (checked above).
    refused = answers[member]
    assert refused["data"]["organization"]["creditBalance"] is None
    assert refused["data"]["organization"]["invoices"] is None
    errors = {tuple(e["path"]): e["extensions"]["code"] for e in refused["errors"]}
    assert errors[("organization", "creditBalance")] == "FORBIDDEN"
    assert errors[("organization", "invoices")] == "FORBIDDEN"
    # The billing admin gets amounts.
    billing = answers["billing@acme.test"]["data"]["organization"]
    assert billing["invoices"]["totalCount"] > 0
    assert billing["invoices"]["edges"][0]["node"]["__typename"] == "Invoice"


_generated_callers: dict[str, dict[str, str]] = {}
# The demo organizations' ids, read once the database is seeded: generated `id` arguments name
# them half of the time, so generated queries reach into an organization's data.
_organization_ids: list[str] = []
_KNOWN_IDS = st.integers(min_value=0, max_value=1).map(
    lambda index: graphql.StringValueNode(value=_organization_ids[index])
)
GENERATED_SCALARS = {**CUSTOM_SCALARS, "ID": st.one_of(_KNOWN_IDS, CUSTOM_SCALARS["ID"])}


@pytest_asyncio.fixture
async def demo_organization_ids(database: str) -> list[str]:
    if not _organization_ids:
        for slug in ("acme", "globex"):
            _organization_ids.append(str((await Organization.get(slug=slug)).id))
    return _organization_ids


async def _generated_caller(name: str) -> dict[str, str]:
    if not _generated_callers:
        for email in ("member@acme.test", "billing@acme.test", "owner@globex.test"):
            _generated_callers[email] = await _bearer(await token_for(email))
    return _generated_callers[name]


@FUZZ_SETTINGS
@given(document=queries(gateway_schema._schema, custom_scalars=GENERATED_SCALARS))
async def test_generated_queries_answer_the_same(
    client: httpx.AsyncClient, demo_organization_ids: list[str], document: str
) -> None:
    for caller in ("member@acme.test", "billing@acme.test", "owner@globex.test"):
        await _assert_same(client, {"query": document}, await _generated_caller(caller))


# ---------------------------------------------------------------------------------------------
# A toy schema: what the gateway's data never produces


class Deny(BasePermission):
    message = "Not for you."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


class Upper(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Dog(Named):
    barks: bool


@strawberry.type
class Cat(Named):
    lives: int


@strawberry.type
class Secretive:
    open: str
    # attributes with a permission or an extension and no resolver function: Strawberry still
    # marks their resolver `_is_default`
    secret: str | None = strawberry.field(permission_classes=[Deny])
    must: str = strawberry.field(permission_classes=[Deny])
    shout: str = strawberry.field(extensions=[Upper()])
    renamed: str = strawberry.field(name="differentName")
    colour: Colour | None = None
    colours: list[Colour] = strawberry.field(default_factory=list)
    when: str | None = None  # holds a datetime-like value String refuses
    count: int | None = None
    pet: Named | None = None
    animal: Dog | Cat | None = None
    dog: Dog | None = None  # an object type with is_type_of (it implements an interface)
    inner: Secretive | None = None
    required_inner: Secretive | None = None
    problem: str | None = None


def _secretive(depth: int = 1) -> Secretive:
    inner = _secretive(depth - 1) if depth else None
    return Secretive(
        open="o",
        secret="s3cr3t",
        must="m",
        shout="quiet",
        renamed="r",
        colour=Colour.BLUE,
        colours=[Colour.RED],
        count=2**40 if depth == 0 else 3,
        pet=Dog(name="rex", barks=True),
        animal=Cat(name="tom", lives=9),
        dog=Dog(name="fido", barks=False),
        inner=inner,
        required_inner=inner,
        problem=ValueError("broken value") if depth else None,  # type: ignore[arg-type]
    )


@strawberry.type
class Query:
    @strawberry.field
    def thing(self) -> Secretive:
        return _secretive()

    @strawberry.field
    async def later(self) -> Secretive | None:
        return _secretive()

    @strawberry.field
    def wrong(self) -> Secretive | None:
        nothing = Secretive(open=None, secret=None, must=None, shout="", renamed="")  # type: ignore[arg-type]
        nothing.colour = "purple"  # type: ignore[assignment]
        nothing.dog = Cat(name="not a dog", lives=1)  # type: ignore[assignment]
        return nothing

    @strawberry.field
    def many(self) -> list[Secretive]:
        return [_secretive(), _secretive(0)]

    @strawberry.field
    def many_with_a_wrong_one(self) -> list[Secretive]:
        nothing = Secretive(open=None, secret=None, must=None, shout="", renamed="")  # type: ignore[arg-type]
        return [_secretive(), nothing, _secretive(0)]

    @strawberry.field
    def some(self) -> list[Secretive | None] | None:
        return [_secretive(0), None, _secretive()]

    @strawberry.field
    async def later_many(self) -> list[Secretive]:
        return [_secretive(0), _secretive()]


class _ToyExecution(PlainFieldsExecution):
    pass


toy_stock = strawberry.Schema(query=Query)
toy_shortcut = strawberry.Schema(query=Query, execution_context_class=_ToyExecution)
_ToyExecution.tabulate(toy_shortcut._schema)


def test_fields_with_permissions_or_extensions_are_never_plain() -> None:
    leaves = _ToyExecution.leaves["Secretive"]
    assert {"open", "differentName", "colour", "count", "problem"} <= set(leaves)
    assert not {"secret", "must", "shout"} & set(leaves)
    assert leaves["differentName"][0] == "renamed"
    objects = _ToyExecution.objects["Secretive"]
    assert set(objects) == {"inner", "requiredInner"}  # not the interface, union, list, Dog


def _assert_toy_same(document: str, result: Any, expected: Any) -> None:
    assert result.data == expected.data, document
    formatted = [e.formatted for e in result.errors or []]
    assert formatted == [e.formatted for e in expected.errors or []], document


TOY_DOCUMENTS = [
    # permission and extension on attributes: refused / transformed both ways
    "{ thing { open secret shout } }",
    "{ thing { open must } }",
    "{ later { inner { secret must } } }",
    # custom name, alias, merged sub-selections, directives, fragments
    "{ thing { a: differentName differentName inner { open } inner { colour } } }",
    "query ($s: Boolean!) { thing { open @skip(if: $s) inner @include(if: $s) { open } } }",
    "{ thing { ...F ... on Secretive { count } } } fragment F on Secretive { colour colours }",
    # an Exception value, an Int out of range, a wrong enum value, a null for a non-null field
    "{ thing { problem inner { count } } }",
    "{ wrong { open } }",
    "{ wrong { colour count } }",
    "{ wrong { requiredInner { open } inner { open } } }",
    # interfaces, unions and is_type_of reached through an attribute
    "{ thing { pet { name ... on Dog { barks } } animal { ... on Cat { lives } } dog { name } } }",
    "{ wrong { dog { name } } }",
    # lists of objects: each read by its reader, or the whole list the ordinary way
    "{ many { open colour count inner { open colours } } laterMany { a: open count } }",
    "{ manyWithAWrongOne { open colour } }",
    "{ some { open inner { open } } }",
    "{ many { open problem } }",
    "{ many { open pet { name } } }",
    # introspection and __typename
    '{ __typename thing { __typename inner { __typename } } __type(name: "Colour") { name } }',
]


@pytest.mark.parametrize("document", TOY_DOCUMENTS)
async def test_toy_documents_answer_the_same(document: str) -> None:
    for variables in ({"s": True}, {"s": False}):
        expected = await toy_stock.execute(document, variable_values=variables)
        result = await toy_shortcut.execute(document, variable_values=variables)
        _assert_toy_same(document, result, expected)


async def test_a_permission_on_an_attribute_is_checked() -> None:
    result = await toy_shortcut.execute("{ thing { open secret } }")
    assert result.data == {"thing": {"open": "o", "secret": None}}
    assert result.errors is not None
    assert [(e.message, e.path, e.extensions) for e in result.errors] == [
        ("Not for you.", ["thing", "secret"], {"code": "FORBIDDEN"})
    ]


class ShoutEverything(SchemaExtension):
    """A schema extension with a `resolve` hook: it must see every field, plain ones included."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        value = _next(root, info, *args, **kwargs)
        return value.upper() if isinstance(value, str) else value


class _HookedExecution(PlainFieldsExecution):
    pass


hooked_stock = strawberry.Schema(query=Query, extensions=[ShoutEverything])
hooked_shortcut = strawberry.Schema(
    query=Query, extensions=[ShoutEverything], execution_context_class=_HookedExecution
)
_HookedExecution.tabulate(hooked_shortcut._schema)


async def test_an_extension_resolving_every_field_turns_the_shortcut_off(
    shortcut_count: ShortcutCount,
) -> None:
    document = "{ thing { open differentName inner { open colour } } }"
    expected = await hooked_stock.execute(document)
    result = await hooked_shortcut.execute(document)
    _assert_toy_same(document, result, expected)
    assert result.data == {
        "thing": {"open": "O", "differentName": "R", "inner": {"open": "O", "colour": "BLUE"}}
    }
    assert shortcut_count.leaves == 0


async def test_a_plain_list_of_objects_is_read_by_its_reader_unless_an_item_is_unusual(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_all = plain_fields_module._read_all
    read: list[bool] = []

    def counted(*args: Any) -> Any:
        answers = read_all(*args)
        read.append(answers is not None)
        return answers

    monkeypatch.setattr(plain_fields_module, "_read_all", counted)
    # read; then the ordinary way for a null item, and for a null in a non-null field
    for document in ("{ many { open } some { open } }", "{ manyWithAWrongOne { open } }"):
        result = await toy_shortcut.execute(document)
        _assert_toy_same(document, result, await toy_stock.execute(document))
    assert read == [True, False, False]
