"""The one place that maps errors to gRPC status codes, and counts every unary call in the metrics.

A :class:`pullkey.PullkeyError` becomes the status of its class (:data:`STATUS_BY_ERROR`, the first
match in order) with its message as the details and its ``code`` (the error class name when it has
none) in the trailing metadata :data:`REASON_KEY`, the same value a batch item's ``ItemError.reason``
carries. Anything else is ``INTERNAL`` with a fixed message; its traceback goes to the server log
without the exception's message, which could quote data. Messages are cut to
:data:`~pullkey.server.defaults.MAX_ERROR_DETAILS` characters: a status never quotes a whole input.

Every unary call also gets here (the bounds of SECURITY.md, "Limits"):

- the request is decoded here, so a malformed message is ``INVALID_ARGUMENT`` with a fixed text;
- the server's own deadline (``--max-rpc-seconds``) applies whatever the client asked, or if it asked none;
- lookups are refused (``RESOURCE_EXHAUSTED``) while the encoded answers not yet read by their callers
  exceed ``--max-pending-answer-bytes``; an answer counts until its call is over;
- the call is counted in the metrics when it is over: an answer the caller never took is ``CANCELLED``,
  not ``OK``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc

from pullkey import errors
from pullkey.server import defaults
from pullkey.server.metrics import Metrics

if TYPE_CHECKING:
    # NOTE: generic only in the typeshed stubs; requests and responses are any message (or bytes)
    Handler = grpc.RpcMethodHandler[Any, Any]
    Context = grpc.aio.ServicerContext[Any, Any]

log = logging.getLogger("pullkey.grpc")

#: Fixed text of every INTERNAL status: the details stay in the server log.
INTERNAL_MESSAGE = "internal error (see the pullkey server log)"
#: Trailing metadata key of a failed call: the error's ``code`` (``invalid_format``...) or its class name.
REASON_KEY = "pullkey-error-reason"
#: Methods whose servicer returns the one encoded answer and which are registered as unary-stream
#: handlers (the same wire format as unary): the interceptor sends the answer with ``context.write``,
#: which waits for the caller's flow-control window, so the server deadline covers the sending too.
ANSWER_STREAMED = frozenset({"/pullkey.v1.CredentialService/BatchGetCredentials"})
#: Fixed text of a request that is not a valid protobuf message of the method's type.
MALFORMED_MESSAGE = "malformed request: not a valid protobuf message of this method's request type"

#: Status code per error class, first match wins; a PullkeyError not listed is INTERNAL.
STATUS_BY_ERROR: tuple[tuple[type[errors.PullkeyError], grpc.StatusCode], ...] = (
    (errors.NotLoaded, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.InvalidReference, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.ConfigError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.TokenError, grpc.StatusCode.UNAUTHENTICATED),  # a service-account token that proves no identity
)


def status_for(exc: BaseException) -> grpc.StatusCode:
    """The status code of an exception (INTERNAL for anything that is not a known pullkey error)."""
    for cls, code in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return code
    if isinstance(exc, errors.PullkeyError) and isinstance(exc, ValueError):
        return grpc.StatusCode.INVALID_ARGUMENT  # a caller's bad input, whatever its class
    return grpc.StatusCode.INTERNAL


def reason_of(exc: BaseException) -> str:
    """The machine-readable reason of an error: its ``code`` attribute, else its class name."""
    return str(getattr(exc, "code", None) or type(exc).__name__)


def bounded(text: str, limit: int = defaults.MAX_ERROR_DETAILS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def safe_traceback(exc: BaseException) -> str:
    """The traceback's frames and exception class, without the exception's message (which could quote data)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{frames}{type(exc).__module__}.{type(exc).__qualname__}"


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Wrap every unary handler: decoding, the server deadline, the pending-answer budget, errors to status
    codes, and one metrics observation per call."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        max_rpc_seconds: float = defaults.MAX_RPC_SECONDS,
        max_pending_answer_bytes: int = defaults.MAX_PENDING_ANSWER_BYTES,
    ) -> None:
        self._metrics = metrics
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}
        self.max_rpc_seconds = max_rpc_seconds
        self.max_pending_answer_bytes = max_pending_answer_bytes
        #: bytes of encoded answers returned by handlers whose calls are not over yet
        self.pending_answer_bytes = 0

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        answer_streamed = method in ANSWER_STREAMED and handler.unary_stream is not None
        if handler.unary_unary is None and not answer_streamed:
            return handler  # streams (health Watch, reflection) pass through untouched
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        make = grpc.unary_stream_rpc_method_handler if answer_streamed else grpc.unary_unary_rpc_method_handler
        behavior: Callable[..., Any] | None = handler.unary_stream if answer_streamed else handler.unary_unary
        assert behavior is not None
        wrapped: Handler = make(
            self._wrap(method, behavior, handler.request_deserializer),
            request_deserializer=None,  # decoded in the wrapper, where its failure maps to INVALID_ARGUMENT
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _release_when_done(self, context: Context, size: int) -> None:
        self.pending_answer_bytes += size

        def done(_: Context) -> None:
            self.pending_answer_bytes -= size

        context.add_done_callback(done)  # type: ignore[arg-type]  # the stub wants a class; grpc calls any callable

    def _wrap(
        self, method: str, behavior: Callable[..., Any], deserialize: Callable[[bytes], Any] | None
    ) -> Callable[[bytes, Context], Awaitable[Any]]:
        metrics = self._metrics
        clock = time.perf_counter
        lookup = method.endswith(("/GetCredentials", "/BatchGetCredentials"))
        streamed = method in ANSWER_STREAMED

        async def unary(raw: bytes, context: Context) -> Any:
            start = clock()
            code = grpc.StatusCode.OK
            deferred = False
            try:
                try:
                    request = raw if deserialize is None else deserialize(raw)
                except errors.PullkeyError:
                    raise
                except Exception:
                    raise errors.InvalidRequest(MALFORMED_MESSAGE) from None
                if lookup and self.pending_answer_bytes > self.max_pending_answer_bytes:
                    await context.abort(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"server busy: more than {self.max_pending_answer_bytes} bytes of answers wait for their "
                        "callers to read them (--max-pending-answer-bytes); retry later",
                    )
                writing = False
                try:
                    async with asyncio.timeout(self.max_rpc_seconds) as timer:
                        result = await behavior(request, context)
                        if streamed:
                            # sent here, so that a caller that does not read it meets the deadline too
                            writing = True
                            self._release_when_done(context, len(result))
                            try:
                                await context.write(result)
                            except (Exception, asyncio.CancelledError):
                                # the timer fired, or the caller went away (grpc reports either its own way)
                                code = (
                                    grpc.StatusCode.DEADLINE_EXCEEDED if timer.expired() else grpc.StatusCode.CANCELLED
                                )
                                raise asyncio.CancelledError from None
                except TimeoutError:
                    if writing:
                        # NOTE: no status can follow a pending message (grpc: "too many operations") and grpc
                        # Python cannot cancel a call: the handler ends, counted DEADLINE_EXCEEDED; the answer
                        # stays in the pending budget until the connection ends (keepalive, or at the latest
                        # --max-rpc-seconds after its maximum age)
                        log.info("answer not read within the server deadline", extra={"fields": {"method": method}})
                        raise asyncio.CancelledError from None
                    await context.abort(
                        grpc.StatusCode.DEADLINE_EXCEEDED,
                        f"server deadline of {self.max_rpc_seconds:g} s exceeded (--max-rpc-seconds)",
                    )
                code = context.code() or grpc.StatusCode.OK
                if streamed:
                    return None
                if isinstance(result, bytes):
                    self._release_when_done(context, len(result))
                if code is grpc.StatusCode.OK:
                    # counted when the call is over: an answer its caller never read is not a success
                    deferred = True
                    elapsed = clock() - start
                    context.add_done_callback(
                        lambda ctx: metrics.observe(  # type: ignore[arg-type]  # as in _release_when_done
                            method, grpc.StatusCode.CANCELLED if ctx.cancelled() else grpc.StatusCode.OK, elapsed
                        )
                    )
                return result
            except asyncio.CancelledError:
                if code is grpc.StatusCode.OK:
                    code = grpc.StatusCode.CANCELLED
                raise
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except (KeyboardInterrupt, SystemExit, GeneratorExit):
                raise
            except BaseException as exc:  # NOTE: the one place that maps every error, pyo3's PanicException too
                code = status_for(exc)
                if code is grpc.StatusCode.INTERNAL:
                    fields: dict[str, object] = {
                        "method": method,
                        "error": type(exc).__name__,
                        "traceback": safe_traceback(exc),
                    }
                    log.error("internal error", extra={"fields": fields})
                    await context.abort(code, INTERNAL_MESSAGE)
                message, reason = bounded(str(exc)), reason_of(exc)
                if log.isEnabledFor(logging.DEBUG):
                    fields = {"method": method, "code": code.name, "reason": reason, "error": message}
                    log.debug("rejected", extra={"fields": fields})
                ok_reason = reason.isascii() and reason.isprintable() and len(reason) <= 64
                trailer = ((REASON_KEY, reason),) if ok_reason else ()
                await context.abort(code, message, trailing_metadata=trailer)
            finally:
                elapsed = clock() - start
                if not deferred:
                    metrics.observe(method, code, elapsed)
                if log.isEnabledFor(logging.DEBUG):
                    fields = {"method": method, "code": code.name, "ms": round(elapsed * 1e3, 3)}
                    log.debug("rpc", extra={"fields": fields})

        return unary
