"""The served state: one :class:`pullkey.service.Resolver`, the health servicer, reloads, the answer memo
and the batch loop. The resolver swaps its state atomically and keeps the last good one when a reload fails.

Reloads are coalesced: callers arriving while a reload runs share the next one (one reload for all of
them, started after they asked, so each sees every change made before its request).

The last-good rule (non-strict mode): a reload that finds a source the served state used (a file or a
secret volume, still configured and still there) now unusable keeps the whole served state, logs the
source's warning and counts as a failed reload; the next change retries. A source that was removed, or
that never loaded, does not hold a reload back. Strict mode fails any reload with a warning, as before.
Every warning of a successful reload is logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2

from pullkey import errors
from pullkey._core import _batch_token as batch_token
from pullkey._types import Explanation
from pullkey.server import defaults, memory
from pullkey.server.interceptor import INTERNAL_MESSAGE, bounded, safe_traceback
from pullkey.server.memo import AnswerMemo, raise_copy
from pullkey.server.metrics import Metrics
from pullkey.service import Resolver, State
from pullkey.v1 import SERVICE_NAME

log = logging.getLogger("pullkey.grpc")

#: Batches check their deadline and size (and let other calls run) every this many images.
BATCH_SLICE = 1024
#: Bytes a batch answer carries per image at least (the image twice: in the result and in its answer).
_MIN_ANSWER_PER_REQUEST_BYTE = 2
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
        *,
        answer_cache_bytes: int = defaults.ANSWER_CACHE_BYTES,
        max_message_size: int = defaults.MAX_MESSAGE_SIZE,
    ) -> None:
        self.resolver = resolver
        self.metrics = metrics
        self.max_batch = max_batch
        self.max_message_size = max_message_size
        self.health = health.aio.HealthServicer()
        self.loaded = False
        self._reload_lock = asyncio.Lock()
        self._requested = 0  # reload requests so far
        self._covered = 0  # requests answered by the reloads that ran
        self._last: tuple[bool, str] = (False, _NOT_LOADED)
        self.answer_cache_size = answer_cache_size
        self.answer_cache_bytes = answer_cache_bytes
        #: the served state's memo; replaced, never mutated across states, after every reload, so a hit is
        #: always a whole old or new answer.
        self.memo = self._new_memo()
        self.explain_slots = asyncio.Semaphore(defaults.EXPLAIN_CONCURRENCY)
        #: bytes of batch answers sent since the heap was last given back to the OS (see trim_after_bursts)
        self.batch_bytes = 0
        self._burst = False

    def _new_memo(self) -> AnswerMemo:
        return AnswerMemo(self.answer_cache_size, self.answer_cache_bytes)

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

    def watched_paths(self) -> list[str]:
        """The resolver's watched sources plus the config file itself."""
        paths = self.resolver.watched_paths()
        config = self.resolver.state.settings.config_path if self.resolver.loaded else self.resolver.options.config
        if config and config not in paths:
            paths.append(config)
        return paths

    async def reload(self, reason: str) -> tuple[bool, str]:
        """Load (first time) or reload the sources in a worker thread; the old state serves meanwhile.

        Coalesced: a caller whose request came before a reload started shares that reload's outcome.
        """
        self._requested += 1
        mine = self._requested
        async with self._reload_lock:
            if self._covered >= mine:
                return self._last  # a reload that started after this request has run
            covers = self._requested
            # NOTE: shielded: a caller cancelled (deadline, SIGTERM) does not leave a half-finished swap
            self._last = await asyncio.shield(asyncio.ensure_future(self._reload_now(reason)))
            self._covered = covers
            return self._last

    async def _reload_now(self, reason: str) -> tuple[bool, str]:
        first = not self.loaded
        try:
            if first:
                await asyncio.to_thread(self.resolver.load)
                ok = True
            else:
                ok = await asyncio.to_thread(self.resolver.reload, self._last_good_refusal)
            message = "loaded" if ok else (self.resolver.last_error or "reload failed")
        except errors.PullkeyError as exc:
            ok, message = False, str(exc)
        except (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError):
            raise
        except BaseException as exc:  # NOTE: a failed reload (even a core panic) must never take the daemon down
            ok, message = False, INTERNAL_MESSAGE
            log.error("reload crashed", extra={"fields": {"reason": reason, "traceback": safe_traceback(exc)}})
        self.memo = self._new_memo()  # after the swap (or not): no entry of the new memo predates it
        memory.release_free_memory()
        if ok:
            creds, sources = self.counts()
            self.metrics.reload_succeeded(creds)
            if first:
                self.loaded = True
                await self.set_serving(True)
            log.info(
                "sources loaded" if first else "sources reloaded",
                extra={"fields": {"reason": reason, "credentials": creds, "sources": sources}},
            )
            self._log_warnings(self.resolver.state.warnings)
        else:
            self.metrics.reload_failed()
            log.warning(
                "load failed, not serving" if first else "reload failed, keeping the last good state",
                extra={"fields": {"reason": reason, "error": bounded(message)}},
            )
        return ok, message

    @staticmethod
    def _last_good_refusal(old: State, new: State) -> str | None:
        """Why ``new`` must not replace ``old``: a source ``old`` used still exists but no longer loads (see
        the module doc). Decided before the swap, so no call is ever answered from such a state."""
        if new.settings.strict:
            return None
        still_configured = set(new.watched)
        lost = [
            s
            for s in old.used
            if s not in new.used
            and (s in still_configured or any(w.startswith(s + os.sep) for w in new.watched))
            and os.path.exists(s)
        ]
        if not lost:
            return None
        reasons = [w for w in new.warnings if any(w.startswith(s) for s in lost)]
        return reasons[0] if reasons else f"{lost[0]}: no longer loads"

    def _log_warnings(self, warnings: list[str]) -> None:
        for text in warnings[: defaults.MAX_LOGGED_WARNINGS]:
            log.warning("source warning", extra={"fields": {"warning": bounded(text)}})
        if len(warnings) > defaults.MAX_LOGGED_WARNINGS:
            log.warning(
                "more source warnings", extra={"fields": {"count": len(warnings) - defaults.MAX_LOGGED_WARNINGS}}
            )

    def answer(self, image: str) -> bytes:
        """The serialized ``GetCredentialsResponse`` for one image; raises the resolver's error unchanged
        (``InvalidReference`` with its ``code``, ``NotLoaded``, anything unexpected).

        Answers and invalid-input errors are memoised per served state (:class:`AnswerMemo`, bounded in
        entries and bytes): a node asks about the same images again and again.
        """
        memo = self.memo
        memoise = not self.resolver.helpers_active  # helper answers expire on their own (docs/helpers.md)
        hit = memo.get(image) if memoise else None
        if hit is None:
            self.ensure_loaded()
            try:
                hit = self.resolver.answer_pb(image)
            except errors.PullkeyError as exc:
                if not isinstance(exc, ValueError):
                    raise  # NotLoaded (a state that went away) is not an answer to keep
                if memoise:
                    memo.put(image, exc)
                raise
            if memoise:
                memo.put(image, hit)
        if isinstance(hit, bytes):
            return hit
        raise_copy(hit)
        raise AssertionError("unreachable")

    def check_batch(self, request: bytes) -> list[tuple[int, int, int]]:
        """The request's slices of at most ``BATCH_SLICE`` images (``(start, end, images)`` byte ranges, one
        scan of the request), once the request is known to fit the limits (before any lookup)."""
        slices = self.resolver.batch_slices(request, BATCH_SLICE)
        count = sum(images for _, _, images in slices)
        if count > self.max_batch:
            raise errors.InvalidRequest(f"batch of {count} images exceeds the limit of {self.max_batch} (--max-batch)")
        if len(request) * _MIN_ANSWER_PER_REQUEST_BYTE > self.max_message_size:
            raise errors.InvalidRequest(
                f"the answer to a batch of {len(request)} request bytes cannot fit the maximum message size of "
                f"{self.max_message_size} bytes (--max-message-size); split the batch"
            )
        return slices

    async def batch(self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        """The serialized ``BatchGetCredentialsResponse`` for a serialized request; per-item errors (with the
        reference error's code as ``reason``) are encoded by the core in the same answer.

        The request is scanned once into byte ranges of ``BATCH_SLICE`` images; the core encodes each range
        in one call (``BatchResult`` elements of a repeated field concatenate into one message); between
        slices the deadline and the answer's size are checked and other calls run. An answer that outgrows
        the maximum message size fails as soon as it does.
        """
        slices = self.check_batch(request)
        count = sum(images for _, _, images in slices)
        self.ensure_loaded()
        encode: Callable[[bytes, int, int], bytes] = self.resolver.batch_pb_span
        token = batch_token(request)
        if token is not None:  # the pod's credential set (pullkey.tenants); a rejected token raises TokenError
            encode = self.resolver.batch_encoder_token(token)
        if not slices:
            empty = encode(request, 0, 0)
            self.batch_bytes += len(empty)
            return empty
        out: list[bytes] = []
        size = 0
        done = 0
        for start, end, images in slices:
            if done:
                remaining = context.time_remaining()
                if remaining is not None and remaining <= 0:
                    await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, f"deadline exceeded after {done} images")
                await asyncio.sleep(0)
            out.append(encode(request, start, end))
            size += len(out[-1])
            self.batch_bytes += len(out[-1])
            done += images
            if size > self.max_message_size:
                raise errors.InvalidRequest(
                    f"the answer outgrew the maximum message size of {self.max_message_size} bytes "
                    f"(--max-message-size) after {done} of {count} images; split the batch"
                )
        return out[0] if len(out) == 1 else b"".join(out)

    async def explain(self, image: str) -> Explanation:
        """The resolver's explanation, computed off the event loop, at most EXPLAIN_CONCURRENCY at once."""
        self.ensure_loaded()
        async with self.explain_slots:
            return await asyncio.to_thread(self.resolver.explain, image)
