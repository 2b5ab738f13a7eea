"""Who is asking: the principal of a request, and the areas it may see.

Every request of the web tier gets a :class:`Principal` from the sign-in gate
(:mod:`dashboard.auth.gate`), kept in ``flask.g``. The one place that turns an area id from a URL,
a callback or a download into something a query uses, :meth:`dashboard.runtime.Runtime.scope`,
asks :meth:`Principal.allows` with the area's chain of ancestors: an area outside the principal's
areas raises :class:`AreaNotAllowedError`, so no layout, callback, export or download can query it,
whatever the request says. The default area of a view (no ``scope`` in the URL) is
:meth:`Principal.home`, the principal's first area, not the district.

Outside a request (the ETL, the scheduler's briefings, the wall's warm-up thread, benchmarks) the
principal is :data:`SYSTEM`, which sees everything: those run what the deployment itself asked for.
Inside a request that the gate has not seen (which no route of ``create_app`` allows) the principal
is :data:`NOBODY`, which sees nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import flask

from metrics.scope import UnknownAreaError

__all__ = ["ANALYST_ROLES", "AreaNotAllowedError", "NOBODY", "Principal", "SYSTEM", "current", "set_current", "wall_query"]

ANALYST_ROLES = ("admin", "district", "area")  # may use the analyst pages, exports and briefings
_G_KEY = "gridpulse_principal"


class AreaNotAllowedError(UnknownAreaError):
    """The area exists but the principal may not see it.

    A subclass of ``UnknownAreaError``, so every handler that turns an unknown area into a message
    (never its data) handles this one too.
    """

    def __str__(self) -> str:
        return f"area {self.area_id!r} is outside the areas this account may see"


@dataclass(frozen=True)
class Principal:
    """A signed-in account, a wall token, or the system itself.

    Attributes:
        name: the user name, ``token:<id>`` for a wall token, ``system`` or ``""`` (nobody).
        role: ``admin``, ``district``, ``area``, ``wall`` (accounts and tokens), or ``""`` (nobody).
        everywhere: whether every area is allowed (admin, district, wall accounts, unscoped tokens).
        areas: the allowed areas (and everything below them) when not :attr:`everywhere`.
        layout: a wall token's fixed layout, or ``None``.
        token_id: the wall token's id, or ``None``.
    """

    name: str
    role: str
    everywhere: bool = False
    areas: tuple[str, ...] = ()
    layout: str | None = None
    token_id: str | None = None

    @property
    def signed_in(self) -> bool:
        """Whether this is an account or a token (not nobody)."""
        return bool(self.role)

    @property
    def analyst(self) -> bool:
        """May use the analyst pages, their exports and the briefings."""
        return self.role in ANALYST_ROLES

    @property
    def admin(self) -> bool:
        """May manage accounts and tokens and read the audit log."""
        return self.role == "admin"

    @property
    def wall_only(self) -> bool:
        """Sees the wall screens alone (a wall account or a wall token)."""
        return self.role == "wall"

    def allows(self, chain: Iterable[str]) -> bool:
        """Whether an area may be seen, given the area's id and its ancestors' ids (``chain``)."""
        if self.everywhere:
            return True
        return any(area in self.areas for area in chain)

    def home(self, district_id: str) -> str:
        """The area a view without ``scope`` shows: the first allowed area, or the district."""
        return district_id if self.everywhere or not self.areas else self.areas[0]


SYSTEM = Principal("system", "admin", everywhere=True)
NOBODY = Principal("", "")


def wall_query(query: Mapping[str, str]) -> dict[str, str]:
    """A wall page's query with this request's token layout applied (a token may fix the layout)."""
    layout = current().layout
    return {**query, "layout": layout} if layout else dict(query)


def current() -> Principal:
    """The principal of this request (:data:`NOBODY` when the gate set none), or :data:`SYSTEM` outside one."""
    if not flask.has_request_context():
        return SYSTEM
    return flask.g.get(_G_KEY, NOBODY)


def set_current(principal: Principal) -> None:
    """Record the request's principal (the gate does, before any view runs)."""
    setattr(flask.g, _G_KEY, principal)
