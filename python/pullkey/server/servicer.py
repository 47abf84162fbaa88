"""``pullkey.v1.CredentialService``: each method converts the request, asks the daemon (its resolver)
and returns the answer; errors go to the interceptor (:mod:`pullkey.server.interceptor`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.message import Message

from pullkey._core import _batch_images as batch_images
from pullkey._core import parse_reference
from pullkey.helpers.cache import pool as helper_pool
from pullkey.server.convert import explain_to_pb, reference_to_pb
from pullkey.server.daemon import Daemon
from pullkey.server.tenants import tenant_explain_to_pb
from pullkey.v1 import SERVICE_NAME, credential_pb2, credential_pb2_grpc
from pullkey.v1 import credential_pb2 as pb

if TYPE_CHECKING:
    Context = grpc.aio.ServicerContext[Any, Any]


class CredentialServicer(credential_pb2_grpc.CredentialServiceServicer):
    """The service's six methods over one :class:`Daemon`.

    NOTE: the two lookup methods return their answers already serialized (memoised answers, batches
    encoded by the core); :func:`add_servicer` registers a serializer that passes bytes through.
    """

    def __init__(self, daemon: Daemon) -> None:
        self._daemon = daemon

    async def GetCredentials(self, request: pb.GetCredentialsRequest, context: Context) -> bytes:  # type: ignore[override]
        if request.service_account_token:  # the pod's credential set; `namespace`/`annotations` never choose one
            self._daemon.ensure_loaded()
            return self._daemon.resolver.answer_pb_token(request.image, request.service_account_token)
        resolver = self._daemon.resolver
        if resolver.helpers_active and not resolver.helpers_ready(
            [request.image]
        ):  # a helper may run (docs/helpers.md)
            return await asyncio.get_running_loop().run_in_executor(helper_pool(), self._daemon.answer, request.image)
        return self._daemon.answer(request.image)

    async def BatchGetCredentials(self, request: bytes, context: Context) -> bytes:  # type: ignore[override]
        resolver = self._daemon.resolver
        if resolver.helpers_active:  # warm the helper cache off the event loop
            images = batch_images(request)
            if not resolver.helpers_ready(images):
                await asyncio.get_running_loop().run_in_executor(helper_pool(), resolver.consult_helpers, images)
        return await self._daemon.batch(request, context)

    async def Explain(self, request: pb.ExplainRequest, context: Context) -> pb.ExplainResponse:
        if request.service_account_token:  # which credential set the token gets, and why not the others
            self._daemon.ensure_loaded()
            resolver, token = self._daemon.resolver, request.service_account_token
            async with self._daemon.explain_slots:
                explained = await asyncio.to_thread(resolver.explain_token, request.image, token)
            return tenant_explain_to_pb(explain_to_pb(request.image, explained), explained["tenant"])
        return explain_to_pb(request.image, await self._daemon.explain(request.image))

    async def ParseReference(self, request: pb.ParseReferenceRequest, context: Context) -> pb.ParseReferenceResponse:
        return reference_to_pb(parse_reference(request.reference, normalize=request.normalize))

    async def Reload(self, request: pb.ReloadRequest, context: Context) -> pb.ReloadResponse:
        ok, message = await self._daemon.reload("rpc")
        credentials, sources = self._daemon.counts()
        return pb.ReloadResponse(loaded=ok, message=message, credential_count=credentials, source_count=sources)

    async def Probe(self, request: pb.ProbeRequest, context: Context) -> pb.ProbeResponse:
        from pullkey.server.probe import probe  # urllib3 loads on the first Probe call

        return await probe(self._daemon, request, context)


def _serialize(message: bytes | Message) -> bytes:
    """Response serializer that lets a servicer return bytes it already encoded."""
    return message if isinstance(message, bytes) else message.SerializeToString()


def add_servicer(servicer: CredentialServicer, server: grpc.aio.Server) -> None:
    """Like the generated ``add_CredentialServiceServicer_to_server``, with :func:`_serialize` for responses."""
    methods = credential_pb2.DESCRIPTOR.services_by_name["CredentialService"].methods
    handlers = {
        # NOTE: batch answers go out as the one message of a unary-stream handler (interceptor.ANSWER_STREAMED)
        m.name: (
            grpc.unary_stream_rpc_method_handler
            if m.name == "BatchGetCredentials"
            else grpc.unary_unary_rpc_method_handler
        )(
            getattr(servicer, m.name),
            # NOTE: batch requests reach the servicer as bytes: the core reads the images from them
            # directly, with no Python string per image.
            request_deserializer=None
            if m.name == "BatchGetCredentials"
            else getattr(credential_pb2, m.input_type.name).FromString,
            response_serializer=_serialize,
        )
        for m in methods
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
    server.add_registered_method_handlers(SERVICE_NAME, handlers)
