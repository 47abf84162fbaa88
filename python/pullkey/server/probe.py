"""The ``Probe`` RPC: :func:`pullkey.probe.probe` over the daemon's resolver, as protobuf.

The probe blocks on network I/O, so it runs in a worker thread; its total deadline never outlives
the call's own gRPC deadline. Results carry the key, source and username of a credential, never
its secret (the messages have no field for one).
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from google.protobuf import duration_pb2

from pullkey.errors import InvalidRequest
from pullkey.probe import engine
from pullkey.server.daemon import Daemon
from pullkey.v1 import credential_pb2 as pb

MAX_PROBE_IMAGES = 1000


def _duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(max(0, int(seconds * 1e9)))
    return d


def _credential(info: engine.CredentialInfo | None) -> pb.ExplainedCredential | None:
    return None if info is None else pb.ExplainedCredential(key=info.key, username=info.username, source=info.source)


def result_to_pb(r: engine.ImageResult) -> pb.ProbeResult:
    return pb.ProbeResult(
        image=r.image,
        ok=r.ok,
        reason=r.reason or "",
        detail=r.detail,
        registry=r.registry,
        endpoint=r.endpoint,
        repository=r.repository,
        reference=r.reference,
        digest=r.digest or "",
        media_type=r.media_type or "",
        credential=_credential(r.credential),
        attempts=[
            pb.ProbeAttempt(
                credential=_credential(a.credential),
                ok=a.ok,
                reason=a.reason or "",
                detail=a.detail,
                http_status=a.status or 0,
                elapsed=_duration(a.seconds),
            )
            for a in r.attempts
        ],
        elapsed=_duration(r.seconds),
    )


def _seconds(d: duration_pb2.Duration, default: float) -> float:
    value = d.ToNanoseconds() / 1e9
    return value if value > 0 else default


async def probe(
    daemon: Daemon, request: pb.ProbeRequest, context: grpc.aio.ServicerContext[Any, Any]
) -> pb.ProbeResponse:
    if len(request.images) > MAX_PROBE_IMAGES:
        raise InvalidRequest(f"a Probe call holds at most {MAX_PROBE_IMAGES} images, not {len(request.images)}")
    daemon.ensure_loaded()
    deadline = _seconds(request.deadline, engine.DEFAULT_DEADLINE_S)
    remaining = context.time_remaining()
    if remaining is not None:
        deadline = max(0.001, min(deadline, remaining - 0.05))  # leave time to send the answer
    options = engine.ProbeOptions(
        insecure_registries=tuple(request.insecure_registries),
        timeout=_seconds(request.timeout, engine.DEFAULT_TIMEOUT_S),
        deadline=deadline,
    )
    results = await asyncio.to_thread(engine.probe, list(request.images), daemon.resolver, options)
    return pb.ProbeResponse(results=[result_to_pb(r) for r in results])
