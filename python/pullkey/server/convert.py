"""Resolver objects -> protobuf messages, field by field (no secret-bearing field is ever added to
``ExplainResponse``: the message has none)."""

from __future__ import annotations

from google.protobuf import duration_pb2

from pullkey._core import Credential, Reference
from pullkey._types import KeyringExplanation
from pullkey.service import Answer
from pullkey.v1 import credential_pb2


def credential_to_pb(c: Credential) -> credential_pb2.Credential:
    return credential_pb2.Credential(
        key=c.key,
        username=c.username,
        password=c.password,
        identity_token=c.identity_token,
        registry_token=c.registry_token,
        source=c.source,
    )


def answer_to_pb(answer: Answer) -> credential_pb2.GetCredentialsResponse:
    """A :class:`pullkey.service.Answer` as its protobuf message.

    NOTE: the service itself sends answers encoded by the core (``Resolver.answer_pb``/``batch_pb_request``),
    which is several times faster; this is the reference they are tested against.
    """
    return credential_pb2.GetCredentialsResponse(
        image=answer.image,
        repository=answer.repository,
        credentials=[credential_to_pb(c) for c in answer.credentials],
        cache_key_type=answer.cache_key_type,
        cache_duration=duration_pb2.Duration(seconds=max(0, answer.cache_duration)),
    )


def explain_to_pb(image: str, explained: KeyringExplanation) -> credential_pb2.ExplainResponse:
    """The resolver's ``explain`` object, keeping only the fields the message has (none is a secret): the
    core lists at most ``_core.MAX_EXPLAIN_REJECTED`` non-matching keys, the nearest first, and counts them all."""
    return credential_pb2.ExplainResponse(
        image=image,
        repository=explained["repository"],
        credentials=[
            credential_pb2.ExplainedCredential(key=c["key"], username=c["username"], source=c["source"])
            for c in explained["credentials"]
        ],
        rejected=[
            credential_pb2.RejectedKey(key=r["key"], source=r["source"], reason=r["reason"])
            for r in explained["rejected"]
        ],
        rejected_total=explained["rejected_total"],
    )


def reference_to_pb(ref: Reference) -> credential_pb2.ParseReferenceResponse:
    return credential_pb2.ParseReferenceResponse(
        domain=ref.domain,
        path=ref.path,
        tag=ref.tag or "",
        digest=ref.digest or "",
        repository=ref.repository,
        normalized=ref.normalized,
        familiar=ref.familiar,
        default_pull_policy=ref.default_pull_policy,
    )
