"""billing/ imports the standard library and itself, nothing else (architecture rule)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

BILLING = Path(__file__).resolve().parents[2] / "billing"


def _imported_top_level_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_billing_imports_only_the_standard_library() -> None:
    files = sorted(BILLING.glob("**/*.py"))
    assert files
    allowed = set(sys.stdlib_module_names) | {"billing", "__future__"}
    offenders = {
        str(path.relative_to(BILLING)): sorted(_imported_top_level_modules(path) - allowed)
        for path in files
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}
