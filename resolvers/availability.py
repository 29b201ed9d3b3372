"""Whether an exception means the database cannot be reached (down, dropped, refusing us), as
opposed to a bug: callers answer the first with UNAVAILABLE / 503, never INTERNAL / 500."""

from __future__ import annotations

import asyncpg.exceptions as pg
from tortoise.exceptions import DBConnectionError

_UNREACHABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, tortoise's DBConnectionError
    OSError,  # no route, unknown host, a closed socket
    TimeoutError,
    DBConnectionError,
    pg.PostgresConnectionError,  # the connection was lost or never made
    pg.InvalidCatalogNameError,  # the database was dropped
    pg.OperatorInterventionError,  # the server is shutting down or starting up
    pg.InsufficientResourcesError,  # too many connections, disk full
    pg.InvalidAuthorizationSpecificationError,  # the role was dropped
    pg.InterfaceError,  # the pool or connection is closed
)


def database_unavailable(error: BaseException | None) -> bool:
    """True when the error, or one it was raised from, says the database is out of reach."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, _UNREACHABLE):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


UNAVAILABLE_MESSAGE = (
    "The gateway cannot reach its database right now; try again in a minute. "
    "GET /ready tells when it is back."
)
