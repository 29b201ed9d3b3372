"""schema/ reads through resolvers/, never the database itself (architecture rule, issue 10).

schema/ may name a model class as a type annotation for mapping a row it was handed; it may not
use one (`Invoice.get_or_none(...)`, `Subscription.filter(...)`), call a method that only a row
or a query set has (`row.save()`, `row.lines.all()`), or import Tortoise.
"""

from __future__ import annotations

import ast
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[2] / "schema"

# Methods of Tortoise rows, relations and query sets that no builtin type has (so `dict.get`,
# `dict.update`, `list.count` stay usable): a call of one in schema/ is a query.
QUERY_METHODS = {
    "all",
    "annotate",
    "bulk_create",
    "bulk_update",
    "create",
    "delete",
    "exclude",
    "exists",
    "fetch_related",
    "filter",
    "first",
    "get_or_create",
    "get_or_none",
    "order_by",
    "prefetch_related",
    "raw",
    "refresh_from_db",
    "save",
    "select_for_update",
    "select_related",
    "update_from_dict",
    "update_or_create",
    "values_list",
}


def _model_names(tree: ast.Module) -> set[str]:
    """Every local name bound to `models` or to something imported from it, at any depth."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "models":
                names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "models":
                    names.add(alias.asname or alias.name.split(".")[0])
    return names


def database_uses(source: str) -> list[str]:
    """The places in one module's source where schema/ would touch the database itself."""
    tree = ast.parse(source)
    models = _model_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            found += [
                f"line {node.lineno}: imports {m}" for m in modules if m.split(".")[0] == "tortoise"
            ]
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in models:
                found.append(f"line {node.lineno}: uses {node.value.id}.{node.attr}")
            elif node.attr in QUERY_METHODS:
                found.append(f"line {node.lineno}: calls .{node.attr}")
    return sorted(found)


def test_the_scan_finds_each_kind_of_database_use() -> None:
    source = (
        "from models import Invoice as InvoiceRow\n"
        "import tortoise.transactions\n"
        "async def f(row: InvoiceRow) -> None:\n"
        "    from models import Subscription\n"
        "    await InvoiceRow.get_or_none(id=1)\n"
        "    await Subscription.filter(organization_id=1).all()\n"
        "    await row.save()\n"
        "    return await row.lines.all()\n"
    )
    assert database_uses(source) == [
        "line 2: imports tortoise.transactions",
        "line 5: uses InvoiceRow.get_or_none",
        "line 6: calls .all",
        "line 6: uses Subscription.filter",
        "line 7: calls .save",
        "line 8: calls .all",
    ]
    annotation_only = (
        "from models import Invoice\ndef f(row: Invoice) -> str:\n    return row.number\n"
    )
    assert database_uses(annotation_only) == []


def test_schema_runs_no_query_of_its_own() -> None:
    files = sorted(SCHEMA.glob("**/*.py"))
    assert files
    offenders = {
        str(path.relative_to(SCHEMA)): database_uses(path.read_text(encoding="utf-8"))
        for path in files
    }
    assert {name: uses for name, uses in offenders.items() if uses} == {}
