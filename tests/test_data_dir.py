"""The sandbox's files (gateway/data_dir.py) do not depend on the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.data_dir import data_dir, default_database_url

CHECKOUT = Path(__file__).resolve().parent.parent


def test_the_default_is_the_checkouts_var_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = set()
    for cwd in (tmp_path, CHECKOUT, CHECKOUT / "gateway"):
        monkeypatch.chdir(cwd)
        seen.add(data_dir({}))
    assert seen == {CHECKOUT / "var"}
    assert default_database_url({}) == f"sqlite://{CHECKOUT}/var/billing-gateway.sqlite3"


def test_gateway_data_dir_chooses_another(tmp_path: Path) -> None:
    assert data_dir({"GATEWAY_DATA_DIR": str(tmp_path / "d")}) == tmp_path / "d"
    assert default_database_url({"GATEWAY_DATA_DIR": str(tmp_path)}).endswith(
        f"{tmp_path}/billing-gateway.sqlite3"
    )
