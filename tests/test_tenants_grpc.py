"""Tenants over gRPC: a caller's token chooses the credential set, a caller's `namespace` and
`annotations` never do, and a token that proves no identity is UNAUTHENTICATED with its code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import issuer
import pytest
from pullkey.v1 import credential_pb2 as pb
from test_grpc import Running, _reason, make_options, running_server, sock_path  # noqa: F401  (fixture)
from test_tenants import CONFIG, REGISTRY, Cluster, cluster  # noqa: F401  (fixture)


@pytest.fixture
def server(cluster: Cluster, sock_path: Path) -> Iterator[Running]:  # noqa: F811
    # The node credentials live in the kubelet root: pass it the way `pullkey serve --root-dir` does.
    options = make_options(cluster.config)
    options = type(options)(config=str(cluster.config), root_dir=str(cluster.root), home=str(cluster.tmp / "home"))
    with running_server(options, f"unix://{sock_path}", watch_interval=0) as r:
        yield r


def users(resp: pb.GetCredentialsResponse) -> list[str]:
    return [c.username for c in resp.credentials]


def test_a_token_chooses_the_set(server: Running) -> None:
    image = f"{REGISTRY}/team-a/app"
    resp = server.stub.GetCredentials(pb.GetCredentialsRequest(image=image), timeout=5)
    assert users(resp) == ["node-robot"]
    tok = issuer.token("team-a", "default", issuer.ec_key(), lifetime=90)
    resp = server.stub.GetCredentials(pb.GetCredentialsRequest(image=image, service_account_token=tok), timeout=5)
    assert users(resp) == ["team-a-robot", "node-robot"]
    assert 60 <= resp.cache_duration.seconds <= 90, "never beyond the token's life"
    # Asked again without the token: the node answer (the memo keeps no tenant answer).
    assert users(server.stub.GetCredentials(pb.GetCredentialsRequest(image=image), timeout=5)) == ["node-robot"]


def test_unverified_namespace_and_annotations_choose_nothing(server: Running) -> None:
    image = f"{REGISTRY}/team-b/app"
    req = pb.GetCredentialsRequest(
        image=image, namespace="team-b", annotations={"pullkey.dev/credential-set": "team-b"}
    )
    assert users(server.stub.GetCredentials(req, timeout=5)) == ["node-robot"]
    # Even with team-b's own token: its set needs an annotation nobody vouches for over gRPC.
    req.service_account_token = issuer.token("team-b", "default")
    assert users(server.stub.GetCredentials(req, timeout=5)) == ["node-robot"]
    # And a team-a token with team-b's namespace field is team-a.
    req = pb.GetCredentialsRequest(image=image, namespace="team-b", service_account_token=issuer.token("team-a", "x"))
    assert users(server.stub.GetCredentials(req, timeout=5)) == ["team-a-robot", "node-robot"]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: issuer.token("team-a", "d", now=int(time.time()) - 7200), "token_expired"),
        (lambda: issuer.token("team-a", "d", audience=["vault"]), "token_audience"),
        (
            lambda: issuer.sign(issuer.claims("team-a", "d"), issuer.rsa_key("x"), kid=issuer.kid_of(issuer.rsa_key())),
            "token_signature",
        ),
        (lambda: "garbage", "token_malformed"),
    ],
)
def test_a_rejected_token_is_unauthenticated(server: Running, make: object, code: str) -> None:
    tok = make()  # type: ignore[operator]
    for call in (
        lambda: server.stub.GetCredentials(
            pb.GetCredentialsRequest(image=f"{REGISTRY}/x", service_account_token=tok), timeout=5
        ),
        lambda: server.stub.BatchGetCredentials(
            pb.BatchGetCredentialsRequest(images=[f"{REGISTRY}/x"], service_account_token=tok), timeout=5
        ),
    ):
        with pytest.raises(grpc.RpcError) as info:
            call()
        assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
        assert _reason(info.value) == code
        assert tok[:16] not in (info.value.details() or "")


def test_batch_with_a_token(server: Running) -> None:
    req = pb.BatchGetCredentialsRequest(
        images=[f"{REGISTRY}/a", "quay.io/x"], service_account_token=issuer.token("team-a", "d")
    )
    resp = server.stub.BatchGetCredentials(req, timeout=5)
    assert [c.username for c in resp.results[0].response.credentials] == ["team-a-robot", "node-robot"]
    assert list(resp.results[1].response.credentials) == []
    req.ClearField("service_account_token")
    resp = server.stub.BatchGetCredentials(req, timeout=5)
    assert [c.username for c in resp.results[0].response.credentials] == ["node-robot"]


def test_explain_with_a_token(server: Running) -> None:
    image = f"{REGISTRY}/team-a/app"
    tok = issuer.token("team-a", "builder")
    resp = server.stub.Explain(pb.ExplainRequest(image=image, service_account_token=tok), timeout=5)
    assert (resp.identity, resp.credential_set, resp.token_error) == ("team-a/builder", "team-a", "")
    assert [(v.name, v.selected) for v in resp.credential_sets] == [("team-a", True), ("team-b", False)]
    assert resp.credential_sets[1].reason == 'namespace "team-a" is not one of ["team-b"]'
    assert [c.username for c in resp.credentials] == ["team-a-robot", "node-robot"]
    assert tok[:16] not in str(resp)
    bad = issuer.token("team-a", "builder", issuer="https://other")
    resp = server.stub.Explain(pb.ExplainRequest(image=image, service_account_token=bad), timeout=5)
    assert (resp.identity, resp.credential_set, resp.token_error_code) == ("", "", "token_issuer")
    assert [c.username for c in resp.credentials] == ["node-robot"]
    resp = server.stub.Explain(pb.ExplainRequest(image=image), timeout=5)
    assert (resp.identity, resp.credential_set, list(resp.credential_sets)) == ("", "", [])
