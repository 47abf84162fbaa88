"""The one place that maps errors to gRPC status codes, and counts every unary call in the metrics.

A :class:`pullkey.PullkeyError` becomes the status of its class (:data:`STATUS_BY_ERROR`, the first
match in order) with its message as the details and its ``code`` (the error class name when it has
none) in the trailing metadata :data:`REASON_KEY`, the same value a batch item's ``ItemError.reason``
carries. Anything else is ``INTERNAL`` with a fixed message; its traceback goes to the server log
without the exception's message, which could quote data.
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


def safe_traceback(exc: BaseException) -> str:
    """The traceback's frames and exception class, without the exception's message (which could quote data)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{frames}{type(exc).__module__}.{type(exc).__qualname__}"


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Wrap every unary handler: errors to status codes, and one metrics observation per call."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler  # streams (health Watch, reflection) pass through untouched
        method: str = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = grpc.unary_unary_rpc_method_handler(
            self._wrap(method, handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, method: str, behavior: Callable[..., Any]) -> Callable[[Any, Context], Awaitable[Any]]:
        metrics = self._metrics
        clock = time.perf_counter

        async def unary(request: Any, context: Context) -> Any:
            start = clock()
            code = grpc.StatusCode.OK
            try:
                result = await behavior(request, context)
                code = context.code() or grpc.StatusCode.OK
                return result
            except asyncio.CancelledError:
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
                message, reason = str(exc), reason_of(exc)
                if log.isEnabledFor(logging.DEBUG):
                    fields = {"method": method, "code": code.name, "reason": reason, "error": message}
                    log.debug("rejected", extra={"fields": fields})
                trailer = ((REASON_KEY, reason),) if reason.isascii() and reason.isprintable() else ()
                await context.abort(code, message, trailing_metadata=trailer)
            finally:
                elapsed = clock() - start
                metrics.observe(method, code, elapsed)
                if log.isEnabledFor(logging.DEBUG):
                    fields = {"method": method, "code": code.name, "ms": round(elapsed * 1e3, 3)}
                    log.debug("rpc", extra={"fields": fields})

        return unary
