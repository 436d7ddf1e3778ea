"""Failed-login accounting: an account is locked after N failures within the lockout window, and
a client address is rate-limited. In memory (one API process); time is injected for tests."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable


class Lockout:
    def __init__(self, max_failures: int, lockout_s: float, ip_per_minute: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.ip_per_minute = ip_per_minute
        self.clock = clock
        self._user: dict[str, deque[float]] = defaultdict(deque)
        self._ip: dict[str, deque[float]] = defaultdict(deque)

    @staticmethod
    def _trim(q: deque[float], horizon: float) -> None:
        while q and q[0] < horizon:
            q.popleft()

    def retry_after(self, username: str, ip: str) -> float:
        """Seconds until this username / address may try again (0 when allowed)."""
        now = self.clock()
        uq, iq = self._user[username], self._ip[ip]
        self._trim(uq, now - self.lockout_s)
        self._trim(iq, now - 60.0)
        wait = 0.0
        if len(uq) >= self.max_failures:
            wait = max(wait, uq[-self.max_failures] + self.lockout_s - now)
        if len(iq) >= self.ip_per_minute:
            wait = max(wait, iq[-self.ip_per_minute] + 60.0 - now)
        return max(wait, 0.0)

    def failed(self, username: str, ip: str) -> None:
        now = self.clock()
        self._user[username].append(now)
        self._ip[ip].append(now)

    def succeeded(self, username: str) -> None:
        self._user.pop(username, None)
