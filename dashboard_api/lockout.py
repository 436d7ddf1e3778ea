"""Failed-login throttling, in memory (one API process); time is injected for tests.

- **Per (user, address)**: ``max_failures`` free failures, then a delay that doubles with each further
  failure (``base_delay_s`` … ``max_delay_s``), forgotten after ``window_s`` without a failure. A
  guesser slows down only themselves: the nurse at her own workstation is not locked out.
- **Per address**: at most ``ip_per_minute`` failures a minute, whatever the usernames.
- **Per account**: past ``account_ceiling`` failures (from all addresses, forgotten after ``window_s``
  of quiet) every attempt on the account waits a delay capped at ``account_max_delay_s``: a distributed
  guesser is slowed, never the account locked for long. Addresses the user has logged in from
  successfully (known for ``known_s``) are exempt.

An attempt is **reserved** (:meth:`Lockout.reserve`: counted as a failure) before its password is
checked and released on success, so concurrent guesses cannot all pass the check before any is
counted. A refused attempt records nothing and a lookup never inserts. Every table is bounded:
entries idle longer than their window are swept and at most ``max_keys`` are kept (least recently
touched dropped first). The trade-off: dropped entries forget their delay, which takes an attacker
``max_keys`` fresh (user, address) pairs, i.e. many addresses given the per-address budget.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Attempt:
    """A login attempt: ``wait > 0`` means refused (retry after ``wait`` seconds), else reserved."""

    username: str
    address: str
    t: float
    wait: float = 0.0


@dataclass(slots=True)
class _Streak:
    failures: int
    last: float


class _Bounded(Generic[K, V]):
    """Insertion-ordered by last write; entries idle for ``ttl_s`` swept; at most ``cap`` kept."""

    def __init__(self, cap: int, ttl_s: float) -> None:
        self.cap, self.ttl_s = cap, ttl_s
        self.items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K, now: float) -> V | None:
        hit = self.items.get(key)
        return hit[1] if hit is not None and now - hit[0] < self.ttl_s else None

    def put(self, key: K, value: V, now: float) -> None:
        self.items[key] = (now, value)
        self.items.move_to_end(key)
        while self.items:
            oldest_t = next(iter(self.items.values()))[0]
            if len(self.items) <= self.cap and now - oldest_t < self.ttl_s:
                break
            self.items.popitem(last=False)

    def pop(self, key: K) -> None:
        self.items.pop(key, None)

    def __len__(self) -> int:
        return len(self.items)


class Lockout:
    def __init__(self, max_failures: int = 5, window_s: float = 15 * 60, ip_per_minute: int = 30, *,
                 base_delay_s: float = 2.0, max_delay_s: float = 15 * 60, account_ceiling: int = 50,
                 account_max_delay_s: float = 30.0, known_s: float = 30 * 86_400, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_delay_s > window_s or account_max_delay_s > window_s:
            raise ValueError("the delays must not exceed window_s (a waiting guesser would be forgotten)")
        self.max_failures, self.window_s, self.ip_per_minute = max_failures, window_s, ip_per_minute
        self.base_delay_s, self.max_delay_s = base_delay_s, max_delay_s
        self.account_ceiling, self.account_max_delay_s = account_ceiling, account_max_delay_s
        self.clock = clock
        self._pairs: _Bounded[tuple[str, str], _Streak] = _Bounded(max_keys, window_s)
        self._accounts: _Bounded[str, _Streak] = _Bounded(max_keys, window_s)
        self._addresses: _Bounded[str, deque[float]] = _Bounded(max_keys, 60.0)
        self._known: _Bounded[tuple[str, str], bool] = _Bounded(max_keys, known_s)

    def _delay(self, streak: _Streak | None, free: int, cap: float, now: float) -> float:
        if streak is None or streak.failures < free:
            return 0.0
        delay = min(self.base_delay_s * 2.0 ** min(streak.failures - free, 60), cap)
        return max(streak.last + delay - now, 0.0)

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until ``username`` may try again from ``address`` (0 when allowed). Inserts nothing."""
        now = self.clock()
        wait = self._delay(self._pairs.get((username, address), now), self.max_failures, self.max_delay_s, now)
        if self._known.get((username, address), now) is None:
            wait = max(wait, self._delay(self._accounts.get(username, now), self.account_ceiling,
                                         self.account_max_delay_s, now))
        recent = self._addresses.get(address, now)
        if recent is not None:
            while recent and recent[0] <= now - 60.0:
                recent.popleft()
            if len(recent) >= self.ip_per_minute:
                wait = max(wait, recent[-self.ip_per_minute] + 60.0 - now)
        return wait

    def reserve(self, username: str, address: str) -> Attempt:
        """Refused (``wait > 0``, nothing recorded) or reserved: counted as a failure until
        :meth:`release` (call it when the password matched)."""
        now = self.clock()
        wait = self.retry_after(username, address)
        if wait > 0:
            return Attempt(username, address, now, wait)
        pair = self._pairs.get((username, address), now)
        self._pairs.put((username, address), _Streak((pair.failures if pair else 0) + 1, now), now)
        account = self._accounts.get(username, now)
        self._accounts.put(username, _Streak((account.failures if account else 0) + 1, now), now)
        recent = self._addresses.get(address, now) or deque(maxlen=max(self.ip_per_minute, 1))
        recent.append(now)
        self._addresses.put(address, recent, now)
        return Attempt(username, address, now)

    def release(self, attempt: Attempt) -> None:
        """The reserved attempt succeeded: it is not a failure; this (user, address) starts afresh and
        is known (exempt from the account ceiling)."""
        now = self.clock()
        self._pairs.pop((attempt.username, attempt.address))
        account = self._accounts.get(attempt.username, now)
        if account is not None and account.failures > 0:
            account.failures -= 1
        recent = self._addresses.get(attempt.address, now)
        if recent is not None and attempt.t in recent:
            recent.remove(attempt.t)
        self._known.put((attempt.username, attempt.address), True, now)

    def size(self) -> int:
        """Entries held in all tables (bounded by ``4 * max_keys``)."""
        return len(self._pairs) + len(self._accounts) + len(self._addresses) + len(self._known)
