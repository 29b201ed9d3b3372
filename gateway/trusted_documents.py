"""The trusted-documents manifest (ACC-6, api-contract): `operations/*.graphql` compiled to a JSON
map of sha256 -> document. Partners send the hash; they may run nothing else.

    python -m gateway.trusted_documents           # rewrites gateway/data/trusted-documents.json
    python -m gateway.trusted_documents --check   # exits 1 when the manifest is stale
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from importlib import resources
from pathlib import Path

OPERATIONS = Path(__file__).resolve().parent.parent / "operations"
MANIFEST = Path(__file__).resolve().parent / "data" / "trusted-documents.json"


def document_hash(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def compile_operations(directory: Path = OPERATIONS) -> dict[str, str]:
    documents = [path.read_text() for path in sorted(directory.glob("*.graphql"))]
    return {document_hash(document): document for document in documents}


def manifest_text(documents: dict[str, str]) -> str:
    return json.dumps(documents, indent=2, sort_keys=True) + "\n"


def load_manifest() -> dict[str, str]:
    """The manifest shipped with the package (it is package data, so an installed gateway has it
    without the repository's operations/ directory)."""
    text = resources.files("gateway").joinpath("data/trusted-documents.json").read_text()
    documents: dict[str, str] = json.loads(text)
    return documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the manifest is stale")
    args = parser.parse_args()
    wanted = manifest_text(compile_operations())
    if not args.check:
        MANIFEST.write_text(wanted)
        return
    if not MANIFEST.exists() or MANIFEST.read_text() != wanted:
        print(f"{MANIFEST.name} is stale: run `make operations` and commit it.", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
