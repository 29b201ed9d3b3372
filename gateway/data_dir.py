"""Where the sandbox keeps its files (the SQLite database, the sandbox's token secret): the same
directory whatever the working directory `billing-gateway` is started from.

GATEWAY_DATA_DIR when set; else `var/` of the checkout the gateway runs from (`make serve`);
else, for an installed package, $XDG_DATA_HOME/billing-gateway (~/.local/share/billing-gateway)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
DATABASE_FILE = "billing-gateway.sqlite3"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if value := (env.get("GATEWAY_DATA_DIR") or "").strip():
        return Path(value).expanduser().resolve()
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "gateway").is_dir():
        return _CHECKOUT / "var"
    base = (env.get("XDG_DATA_HOME") or "").strip() or str(Path.home() / ".local" / "share")
    return Path(base).expanduser().resolve() / "billing-gateway"


def default_database_url(env: Mapping[str, str] | None = None) -> str:
    return f"sqlite://{data_dir(env) / DATABASE_FILE}"
