"""Helper answers in a long-lived process (the gRPC service, a :class:`pullkey.Resolver`): cached for
``helpers.cacheDuration``, at most one helper call per (helper, server URL) at a time however many
requests arrive, and a failing helper retried with exponential back-off capped at 300 s instead of on
every request (docs/helpers.md "Caching").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pullkey.helpers import Consultation, HelperPlan, consult

# Requests that may wait on a helper run here, not on the event loop nor in asyncio's default executor
# (a few threads: waiters on one slow helper would hold them all and stall every other request).
POOL_THREADS = 64

# The kubelet's image pull back-off: 10 s, doubled per failure, capped at 300 s
# (kubernetes/kubernetes pkg/kubelet/kubelet.go backOffPeriod and MaxContainerBackOff (v1.34)).
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0


@dataclass
class _Entry:
    consultation: Consultation
    until: float  # reuse the consultation until then (the answer's lifetime, or the back-off)
    failures: int = 0


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    result: Consultation | None = None


def backoff(failures: int) -> float:
    """The wait after ``failures`` consecutive failures: 10 s, 20 s, 40 s, ... at most 300 s."""
    return min(BACKOFF_MAX, BACKOFF_INITIAL * float(2 ** max(0, failures - 1)))


class HelperCache:
    """Consultations by (helper, server URL). ``clock`` is ``time.monotonic`` (tests pass their own);
    ``calls`` counts the helper runs started."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._flights: dict[tuple[str, str], _Flight] = {}
        self.calls = 0

    def now(self) -> float:
        return self._clock()

    def fresh(self, plan: HelperPlan, server_url: str) -> bool:
        """Whether :meth:`get` would answer ``server_url`` from the cache (or no helper answers it)."""
        chosen = plan.helper_for(server_url)
        if chosen is None:
            return True
        with self._lock:
            entry = self._entries.get((chosen[0], server_url))
            return entry is not None and self._clock() < entry.until

    def get(self, plan: HelperPlan, server_url: str, registry: str) -> Consultation | None:
        """The consultation for ``server_url``: a cached one while it may be reused (its ``cached`` set,
        ``reuse_until`` on the cache's clock), else the result of the one run in flight for this key
        (started here when there is none). ``None`` when no helper answers ``server_url``."""
        chosen = plan.helper_for(server_url)
        if chosen is None:
            return None
        key = (chosen[0], server_url)
        with self._lock:
            now = self._clock()
            entry = self._entries.get(key)
            if entry is not None and now < entry.until:
                return _cached(entry.consultation, entry.until)
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
                self.calls += 1
        if not leader:
            flight.done.wait()
            return flight.result
        result: Consultation | None = None
        try:
            result = consult(plan, server_url, registry)
        finally:
            with self._lock:
                now = self._clock()
                if result is not None:
                    failures = 0
                    if result.outcome in ("found", "not found"):
                        until = now + plan.cache_duration
                    else:
                        previous = self._entries.get(key)
                        failures = (previous.failures if previous else 0) + 1
                        until = now + backoff(failures)
                        result.message += f" (next try in {backoff(failures):g}s)"
                    result.at, result.reuse_until = now, until
                    self._entries[key] = _Entry(result, until, failures)
                flight.result = result
                del self._flights[key]
                flight.done.set()
        return result


def _cached(c: Consultation, until: float) -> Consultation:
    copy = Consultation(c.helper, c.server_url, c.registry, c.source)
    for name in ("outcome", "message", "seconds", "username", "secret", "identity_token", "at"):
        setattr(copy, name, getattr(c, name))
    copy.cached = True
    copy.reuse_until = until
    return copy


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """The threads on which the gRPC service answers requests that may wait on a helper."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="pullkey-helpers")
        return _pool
