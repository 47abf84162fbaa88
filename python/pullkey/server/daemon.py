"""The served state: one :class:`pullkey.service.Resolver`, the health servicer, reloads, the answer memo
and the batch loop. The resolver swaps its state atomically and keeps the last good one when a reload fails."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Callable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2

from pullkey import errors
from pullkey._core import _batch_token as batch_token
from pullkey._core import _count_batch_images as count_batch_images
from pullkey.server import defaults, memory
from pullkey.server.interceptor import INTERNAL_MESSAGE, safe_traceback
from pullkey.server.metrics import Metrics
from pullkey.service import Resolver
from pullkey.v1 import SERVICE_NAME

log = logging.getLogger("pullkey.grpc")

#: Batches check their deadline (and let other calls run) every this many images.
BATCH_SLICE = 1024
_HEALTH_SERVICES = ("", SERVICE_NAME)
_NOT_LOADED = "no credential sources loaded yet (see the server log)"


class Daemon:
    """One resolver served over gRPC: health, reloads, memoised answers and batches."""

    def __init__(
        self,
        resolver: Resolver,
        metrics: Metrics,
        max_batch: int = defaults.MAX_BATCH,
        answer_cache_size: int = defaults.ANSWER_CACHE,
    ) -> None:
        self.resolver = resolver
        self.metrics = metrics
        self.max_batch = max_batch
        self.health = health.aio.HealthServicer()
        self.loaded = False
        self._reload_lock = asyncio.Lock()
        self.answer_cache_size = answer_cache_size
        #: image -> serialized GetCredentialsResponse, or the error it raised (a template, raised as a copy),
        #: of the served state; replaced, never mutated across states, after every successful (re)load, so a
        #: hit is always a whole old or new answer.
        self.memo: dict[str, bytes | errors.PullkeyError] = {}
        #: bytes of batch answers sent since the heap was last given back to the OS (see trim_after_bursts)
        self.batch_bytes = 0
        self._burst = False

    async def trim_after_bursts(self, interval: float = 1.0, threshold: int = 8 << 20) -> None:
        """Give the heap back to the OS once a burst of batch traffic is over.

        NOTE: measured with bench/grpc_bench.py at 100,000 entries: 32 concurrent 1,000-image batch
        streams leave gRPC's transport buffers in the heap (RSS 59 -> 65 MiB) after the burst ends;
        a ``malloc_trim`` once the burst has passed brings it back. Cheap (a few ms) and only after
        ``threshold`` bytes of batch answers, so a quiet daemon never pays for it.
        """
        while True:
            await asyncio.sleep(interval)
            sent, self.batch_bytes = self.batch_bytes, 0
            if sent == 0 and self._burst:
                memory.release_free_memory()  # the previous interval was busy, this one quiet
            self._burst = sent >= threshold

    async def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in _HEALTH_SERVICES:
            await self.health.set(name, status)

    def ensure_loaded(self) -> None:
        if not self.loaded:
            raise errors.NotLoaded(_NOT_LOADED)

    def counts(self) -> tuple[int, int]:
        """(credentials, sources) of the served state; (0, 0) before the first load."""
        if not self.resolver.loaded:
            return 0, 0
        state = self.resolver.state
        return len(state.keyring), len(state.used)

    async def reload(self, reason: str) -> tuple[bool, str]:
        """Load (first time) or reload the sources in a worker thread; the old state serves meanwhile."""
        async with self._reload_lock:
            first = not self.loaded
            try:
                if first:
                    await asyncio.to_thread(self.resolver.load)
                    ok = True
                else:
                    ok = await asyncio.to_thread(self.resolver.reload)
                message = "loaded" if ok else (self.resolver.last_error or "reload failed")
            except errors.PullkeyError as exc:
                ok, message = False, str(exc)
            except (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError):
                raise
            except BaseException as exc:  # NOTE: a failed reload (even a core panic) must never take the daemon down
                ok, message = False, INTERNAL_MESSAGE
                log.error("reload crashed", extra={"fields": {"reason": reason, "traceback": safe_traceback(exc)}})
            if ok:
                self.memo = {}  # after the resolver's swap: no entry of the new dict predates it
                memory.release_free_memory()
                creds, sources = self.counts()
                self.metrics.reload_succeeded(creds)
                if first:
                    self.loaded = True
                    await self.set_serving(True)
                log.info(
                    "sources loaded" if first else "sources reloaded",
                    extra={"fields": {"reason": reason, "credentials": creds, "sources": sources}},
                )
            else:
                self.metrics.reload_failed()
                log.warning(
                    "load failed, not serving" if first else "reload failed, keeping the last good state",
                    extra={"fields": {"reason": reason, "error": message}},
                )
            return ok, message

    def answer(self, image: str) -> bytes:
        """The serialized ``GetCredentialsResponse`` for one image; raises the resolver's error unchanged
        (``InvalidReference`` with its ``code``, ``NotLoaded``, anything unexpected).

        Answers and invalid-input errors are memoised per served state (a bounded FIFO of
        ``answer_cache_size`` images, 0 = off): a node asks about the same images again and again.
        """
        memo = self.memo
        hit = memo.get(image)
        if hit is None:
            self.ensure_loaded()
            try:
                hit = self.resolver.answer_pb(image)
            except errors.PullkeyError as exc:
                if not isinstance(exc, ValueError):
                    raise  # NotLoaded (a state that went away) is not an answer to keep
                hit = exc.with_traceback(None)
            if self.answer_cache_size > 0:
                if len(memo) >= self.answer_cache_size:
                    with contextlib.suppress(StopIteration, KeyError):
                        del memo[next(iter(memo))]
                memo[image] = hit
        if isinstance(hit, bytes):
            return hit
        # NOTE: a fresh copy each time (same class, message and code): re-raising one object would chain
        # every caller's traceback onto it
        raise copy.copy(hit)

    async def batch(self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        """The serialized ``BatchGetCredentialsResponse`` for a serialized request; per-item errors (with the
        reference error's code as ``reason``) are encoded by the core in the same answer.

        The core encodes each slice of the batch in one call (``BatchResult`` elements of a repeated field
        concatenate into one message); between slices the deadline is checked and other calls run.
        """
        count = count_batch_images(request)
        if count > self.max_batch:
            raise errors.InvalidRequest(f"batch of {count} images exceeds the limit of {self.max_batch}")
        self.ensure_loaded()
        encode: Callable[[bytes, int, int], bytes] = self.resolver.batch_pb_request
        token = batch_token(request)
        if token is not None:  # the pod's credential set (pullkey.tenants); a rejected token raises TokenError
            encode = self.resolver.batch_encoder_token(token)
        if count <= BATCH_SLICE:
            single = encode(request, 0, count)
            self.batch_bytes += len(single)
            return single
        out: list[bytes] = []
        for start in range(0, count, BATCH_SLICE):
            if start:
                remaining = context.time_remaining()
                if remaining is not None and remaining <= 0:
                    await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, f"deadline exceeded after {start} images")
                await asyncio.sleep(0)
            out.append(encode(request, start, start + BATCH_SLICE))
            self.batch_bytes += len(out[-1])
        return b"".join(out)
