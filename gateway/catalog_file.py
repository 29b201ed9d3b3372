"""The catalog and demo-organization data files: read, validated, and explained when broken.

A broken file fails naming the file, the path to the field and what was expected, e.g.
``catalog.toml: products[1].plans[0].prices.MONTHLY: input should be a valid
integer, got '20.00'``. The shapes are gateway.catalog_spec; the checks across fields are
gateway.catalog_checks and gateway.demo_checks.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from gateway.catalog_checks import catalog_problems
from gateway.catalog_spec import CatalogSpec, DemoSpec, Spec
from gateway.demo_checks import demo_problems

S = TypeVar("S", bound=Spec)


class CatalogFileError(ValueError):
    """A data file that cannot be used; the message lists every problem found."""

    def __init__(self, path: Path, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [
            f"{path.name}: {where}: {what}" if where else f"{path.name}: {what}"
            for where, what in problems
        ]
        super().__init__(f"invalid data file {path}:\n  " + "\n  ".join(lines))


def load_catalog(path: Path) -> CatalogSpec:
    spec = _parse(path, CatalogSpec)
    problems = catalog_problems(spec)
    if problems:
        raise CatalogFileError(path, problems)
    return spec


def load_demo(path: Path, catalog: CatalogSpec) -> DemoSpec:
    spec = _parse(path, DemoSpec)
    problems = demo_problems(spec, catalog)
    if problems:
        raise CatalogFileError(path, problems)
    return spec


def _parse(path: Path, model: type[S]) -> S:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogFileError(path, [("", f"cannot read the file ({error.strerror})")]) from None
    except tomllib.TOMLDecodeError as error:
        raise CatalogFileError(path, [("", f"not valid TOML: {error}")]) from None
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise CatalogFileError(path, [_explain(e) for e in error.errors()]) from None


def _explain(error: Any) -> tuple[str, str]:
    where = _path(error["loc"])
    got = error.get("input")
    if error["type"] == "missing":
        return where, "required field is missing"
    if error["type"] == "extra_forbidden":
        return where, "unknown field (check its spelling)"
    return where, f"{error['msg'].lower()}, got {got!r}"


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
