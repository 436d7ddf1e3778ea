"""One-time websocket tickets: a browser cannot set headers on a websocket, and an access token in the
URL ends up in proxy and server logs. ``POST /api/v1/ws/ticket`` (authenticated) trades the caller's
access token for a random ticket that opens one websocket within ``ttl_s`` seconds.

The store is in memory (tickets die with the process, which is what a 30-second ticket should do) and
bounded: at most ``per_user`` outstanding tickets per user (the oldest goes) and ``capacity`` overall;
expired tickets are dropped as new ones are issued.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

TICKET_TTL_S = 30.0


@dataclass(frozen=True, slots=True)
class _Ticket:
    username: str
    access_token: str
    expires: float


class TicketStore:
    def __init__(self, ttl_s: float = TICKET_TTL_S, per_user: int = 16, capacity: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.per_user = per_user
        self.capacity = capacity
        self.clock = clock
        self._tickets: OrderedDict[str, _Ticket] = OrderedDict()  # oldest first: expiry order
        self._by_user: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._tickets)

    def issue(self, username: str, access_token: str) -> str:
        """A new ticket standing for ``access_token`` (which the caller has just validated)."""
        now = self.clock()
        while self._tickets and next(iter(self._tickets.values())).expires <= now:
            self._drop(next(iter(self._tickets)))
        mine = self._by_user.setdefault(username, [])
        while len(mine) >= self.per_user:
            self._drop(mine[0])
        while len(self._tickets) >= self.capacity:
            self._drop(next(iter(self._tickets)))
        ticket = secrets.token_urlsafe(32)
        self._tickets[ticket] = _Ticket(username, access_token, now + self.ttl_s)
        self._by_user.setdefault(username, []).append(ticket)
        return ticket

    def redeem(self, ticket: str) -> str | None:
        """The access token behind an unexpired ``ticket``, once; ``None`` for anything else."""
        found = self._tickets.get(ticket)
        if found is None:
            return None
        self._drop(ticket)
        return found.access_token if found.expires > self.clock() else None

    def _drop(self, ticket: str) -> None:
        found = self._tickets.pop(ticket)
        mine = self._by_user[found.username]
        mine.remove(ticket)
        if not mine:
            del self._by_user[found.username]
