"""The estimated cost and shape of documents (README "Limits"), and the trusted documents of the
apps and partners (ACC-6) fitting well inside the default limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import get_introspection_query, parse

from gateway.limit_settings import RequestLimits
from gateway.public_catalog import public_documents
from gateway.query_cost import estimated_cost
from gateway.query_shape import alias_count, depth
from gateway.trusted_documents import DIRECTORIES, document_hash, load_manifest

DEFAULTS = RequestLimits()
MARGIN = 2  # every trusted document fits twice over
PUBLIC = public_documents(load_manifest())  # what anonymous callers may run: the catalog's


@pytest.mark.parametrize(
    "path", sorted(p for d in DIRECTORIES for p in d.glob("*.graphql")), ids=lambda p: p.stem
)
def test_acc_6_trusted_documents_fit_the_default_limits_twice_over(path: Path) -> None:
    text = path.read_text()
    document = parse(text)
    # Anonymous callers run the public catalog documents (PricingCatalog): theirs is the lower
    # budget; partners and the SaaS backend run the others with a key.
    parse(text, max_tokens=DEFAULTS.max_query_tokens // MARGIN)  # raises past it, comments too
    assert alias_count(document) * MARGIN <= DEFAULTS.max_aliases
    assert depth(document) * MARGIN <= DEFAULTS.max_depth
    public = document_hash(text) in PUBLIC
    budget = DEFAULTS.max_cost_anonymous if public else DEFAULTS.max_cost
    assert estimated_cost(document) * MARGIN <= budget
    assert len(text.encode()) * MARGIN <= DEFAULTS.max_body_bytes


def test_graphiql_introspection_fits_the_anonymous_budget() -> None:
    document = parse(get_introspection_query(descriptions=True))
    assert estimated_cost(document) * MARGIN <= DEFAULTS.max_cost_anonymous
    parse(get_introspection_query(descriptions=True), max_tokens=DEFAULTS.max_query_tokens)


def test_cost_counts_each_field_and_the_page_asked_for() -> None:
    query = "query ($n: Int = 5) { organization { invoices(first: $n) { edges { node { id } } } } }"
    # organization 1 + invoices 10 + n x (edges 1 + node 1 + id 1)
    assert estimated_cost(parse(query)) == 1 + 10 + 5 * 3
    assert estimated_cost(parse(query), {"n": 50}) == 1 + 10 + 50 * 3
    default_page = "{ organization { invoices { edges { node { id } } } } }"
    assert estimated_cost(parse(default_page)) == 1 + 10 + 20 * 3


def test_cost_weighs_quotes_gates_and_mutations() -> None:
    preview = '{ previewPlanChange(input: {product: "email"}) { kind } }'
    gate = '{ usageGate(product: "email", metric: "emails") { allowed } }'
    assert estimated_cost(parse(preview)) == 100 + 1
    assert estimated_cost(parse(gate)) == 25 + 1
    mutation = 'mutation { cancelSubscription(reason: "x") { __typename } }'
    assert estimated_cost(parse(mutation)) == 10 + 1 + 1


def test_fragments_spread_into_each_other_cost_what_they_would_run() -> None:
    # 40 fragments, each spreading the next twice: 2^40 fields run, priced as such, measured
    # in 40 steps.
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    document = parse("{ ...F0 } " + chain + " fragment F40 on Query { __typename }")
    assert estimated_cost(document) == 2**40
    assert depth(document) == 1


def test_introspection_lists_multiply_so_nesting_them_is_dear() -> None:
    shallow = parse("{ __schema { types { fields { name } } } }")
    nested = parse(
        "{ __schema { types { fields { type { fields { type { fields { type { fields "
        "{ type { fields { name } } } } } } } } } } } }"
    )
    # __schema 1 + types (1 + 5 x fields (1 + 5 x names, read from memory: 0))
    assert estimated_cost(shallow) == 1 + (1 + 5 * 1)
    assert estimated_cost(nested) > DEFAULTS.max_cost


def test_aliases_count_in_operations_and_fragments() -> None:
    document = parse("{ a: __typename ...F } fragment F on Query { b: __typename c: __typename }")
    assert alias_count(document) == 3
