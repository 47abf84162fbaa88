"""The tenant part of the gRPC ``Explain`` answer (which credential set a token gets, and why)."""

from __future__ import annotations

from pullkey._types import TenantExplanation
from pullkey.v1 import credential_pb2


def tenant_explain_to_pb(
    message: credential_pb2.ExplainResponse, tenant: TenantExplanation | None
) -> credential_pb2.ExplainResponse:
    """Fills the tenant fields of ``message`` (none of them carries a secret) and returns it."""
    if tenant is None:
        return message
    identity = tenant["identity"]
    if identity is not None:
        message.identity = f"{identity['namespace']}/{identity['service_account']}"
    message.credential_set = tenant["selected"] or ""
    message.token_error_code = tenant["token_error_code"] or ""
    message.token_error = tenant["token_error"] or ""
    message.credential_sets.extend(
        credential_pb2.CredentialSetVerdict(name=v["name"], selected=v["selected"], reason=v["reason"])
        for v in tenant["sets"]
    )
    return message
