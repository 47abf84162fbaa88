"""The gRPC service end to end: a real server on a Unix socket and on loopback TCP (TLS, mTLS).

Every RPC, health, reflection, each status code, socket permissions, stale/live sockets, the plaintext
refusal, reload under load, SIGTERM and canary secrets in the logs. The credential sources are real
docker config.json files in tmp dirs, named by a pullkey ProviderConfig (``--config``).

The resolver is the real ``pullkey.service.Resolver`` over the built extension; the daemon subprocesses
are ``pullkey serve``.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import dataclasses
import datetime
import ipaddress
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pullkey
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pullkey import service
from pullkey.server import ListenError, PullkeyServer, UsageError, create_server, memory
from pullkey.server import main as serve_main
from pullkey.server.cli import build_options
from pullkey.server.convert import answer_to_pb
from pullkey.server.daemon import Daemon
from pullkey.server.defaults import ANSWER_CACHE as DEFAULT_ANSWER_CACHE
from pullkey.server.interceptor import INTERNAL_MESSAGE, REASON_KEY, STATUS_BY_ERROR, reason_of, status_for
from pullkey.server.listen import ListenAddress, default_listen
from pullkey.server.logs import levels
from pullkey.server.metrics import Metrics
from pullkey.v1 import credential_pb2 as pb
from pullkey.v1 import credential_pb2_grpc as pb_grpc

ROOT = Path(__file__).resolve().parent.parent
PYTHON_DIR = ROOT / "python"
SERVICE = "pullkey.v1.CredentialService"
CANARY_PW = "canary-pw-7Hq2ZxW9"  # fake secrets: must never appear in any log line
CANARY_TOKEN = "canary-token-Rk41Lm0p"
CANARY_AUTH_PW = "canary-authpw-Jx88Qe3t"


def serve_cmd(*args: str, global_flags: tuple[str, ...] = ()) -> list[str]:
    """The daemon as an operator starts it: ``pullkey [global flags] serve [flags]`` of this environment."""
    exe = Path(sys.executable).parent / "pullkey"
    if exe.exists():
        return [str(exe), *global_flags, "serve", *args]
    return [sys.executable, "-m", "pullkey.server", *global_flags, *args]


def _env() -> dict[str, str]:
    # NOTE: the installed package is what runs (no PYTHONPATH to the source tree: it has no _core in a
    # wheel install, and the tests must exercise what a user installs).
    env = dict(os.environ)
    env.pop("PULLKEY_CONFIG", None)
    env.pop("PULLKEY_ROOT_DIR", None)
    return env


# --------------------------------------------------------------------------------------------------
# Fixtures: source files, an in-process server on its own event loop thread


def _b64(user: str, pw: str) -> str:
    return base64.b64encode(f"{user}:{pw}".encode()).decode()


def write_json_atomic(path: Path, doc: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)


@dataclasses.dataclass
class Sources:
    dir: Path
    config: Path
    docker: Path
    extra: Path

    def write_docker(self, user: str, pw: str) -> None:
        """Two keys for one host, both with the same user: an answer is all-old or all-new."""
        write_json_atomic(
            self.docker,
            {
                "auths": {
                    "reg.example.com": {"auth": _b64(user, pw)},
                    "reg.example.com/team": {"username": user, "password": pw},
                }
            },
        )


@pytest.fixture
def sources(tmp_path: Path) -> Sources:
    d = tmp_path / "src"
    d.mkdir()
    s = Sources(d, d / "pullkey.json", d / "config.json", d / "extra.json")
    s.write_docker("alice", CANARY_PW)
    write_json_atomic(
        s.extra,
        {"auths": {"other.example.com:5000": {"auth": _b64("carol", CANARY_AUTH_PW), "registrytoken": CANARY_TOKEN}}},
    )
    write_json_atomic(
        s.config,
        {
            "apiVersion": "pullkey.dev/v1alpha1",
            "kind": "ProviderConfig",
            "rootDir": str(d / "no-kubelet-root"),
            "sources": [
                {"type": "DockerConfig", "path": str(s.docker)},
                {"type": "DockerConfig", "path": str(s.extra)},
            ],
            "cache": {"policy": "Image", "duration": "5m"},
        },
    )
    return s


def make_options(cfg: Path) -> service.Options:
    return build_options(str(cfg), str(cfg.parent / "no-kubelet-root"), None)


class LoopThread:
    """An asyncio loop in a daemon thread: the server runs there, tests call it with sync clients."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@dataclasses.dataclass
class Running:
    lt: LoopThread
    server: PullkeyServer
    target: str
    channel: grpc.Channel

    @property
    def stub(self) -> pb_grpc.CredentialServiceStub:
        return pb_grpc.CredentialServiceStub(self.channel)

    def health(self, service: str = "") -> int:
        req = health_pb2.HealthCheckRequest(service=service)
        return health_pb2_grpc.HealthStub(self.channel).Check(req, timeout=5).status  # type: ignore[no-any-return]


@contextlib.contextmanager
def running_server(
    options: Any,
    listen: str,
    *,
    load: bool = True,
    channel_factory: Callable[[str], grpc.Channel] | None = None,
    **kwargs: Any,
) -> Iterator[Running]:
    lt = LoopThread()
    try:
        server, target = lt.run(create_server(options, listen, **kwargs))
        lt.run(server.start(load=load))
        channel = channel_factory(target) if channel_factory else grpc.insecure_channel(target)
        try:
            yield Running(lt, server, target, channel)
        finally:
            channel.close()
            lt.run(server.stop(1.0))
    finally:
        lt.close()


@pytest.fixture
def sock_path(tmp_path: Path) -> Iterator[Path]:
    # AF_UNIX paths are limited to ~107 bytes: pytest's tmp_path can be longer
    d = Path(f"/tmp/pk-{os.getpid()}-{time.monotonic_ns() % 10**9}")
    yield d / "run" / "pullkey.sock"
    with contextlib.suppress(FileNotFoundError):
        for p in sorted(d.rglob("*"), reverse=True):
            p.unlink() if not p.is_dir() else p.rmdir()
        d.rmdir()


@pytest.fixture
def unix_server(sources: Sources, sock_path: Path) -> Iterator[Running]:
    with running_server(make_options(sources.config), f"unix://{sock_path}", watch_interval=0) as r:
        yield r


# --------------------------------------------------------------------------------------------------
# Every RPC over the Unix socket


def test_get_credentials_in_kubelet_order(unix_server: Running, sources: Sources) -> None:
    resp = unix_server.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/team/app:v1"), timeout=5)
    assert resp.image == "reg.example.com/team/app:v1"
    assert resp.repository == "reg.example.com/team/app"
    assert [(c.key, c.username, c.password) for c in resp.credentials] == [
        ("reg.example.com/team", "alice", CANARY_PW),
        ("reg.example.com", "alice", CANARY_PW),
    ]
    assert {c.source for c in resp.credentials} == {str(sources.docker)} or all(
        str(sources.docker) in c.source for c in resp.credentials
    )
    assert resp.cache_key_type == "Image"
    assert resp.cache_duration.seconds == 300


def test_get_credentials_tokens_and_port(unix_server: Running) -> None:
    resp = unix_server.stub.GetCredentials(pb.GetCredentialsRequest(image="other.example.com:5000/x/y"), timeout=5)
    assert [(c.username, c.password, c.registry_token) for c in resp.credentials] == [
        ("carol", CANARY_AUTH_PW, CANARY_TOKEN)
    ]
    # a different port is a different registry (kubelet URLsMatch: ports must be equal)
    resp = unix_server.stub.GetCredentials(pb.GetCredentialsRequest(image="other.example.com:5001/x/y"), timeout=5)
    assert list(resp.credentials) == []


def test_no_credentials_is_ok_and_empty(unix_server: Running) -> None:
    req = pb.GetCredentialsRequest(image="ubuntu", namespace="ns", annotations={"a": "b"}, service_account_token="t")
    resp = unix_server.stub.GetCredentials(req, timeout=5)
    assert resp.image == "ubuntu"
    assert resp.repository == "docker.io/library/ubuntu"
    assert list(resp.credentials) == []


def test_batch_in_order_with_per_item_errors(unix_server: Running) -> None:
    images = ["reg.example.com/team/app", "Bad//Ref", "ubuntu:22.04", "other.example.com:5000/z"]
    resp = unix_server.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=images), timeout=5)
    assert [r.image for r in resp.results] == images
    assert [r.WhichOneof("result") for r in resp.results] == ["response", "error", "response", "response"]
    assert [c.key for c in resp.results[0].response.credentials] == ["reg.example.com/team", "reg.example.com"]
    err = resp.results[1].error
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "Bad//Ref" in err.message and err.reason
    assert list(resp.results[2].response.credentials) == []
    assert resp.results[3].response.credentials[0].username == "carol"


def test_core_encoding_equals_protobuf_messages(tmp_path: Path) -> None:
    """The Rust encoder of answers (rust/grpc/mod.rs) against messages built field by field with the
    generated classes: byte-equal for single answers, and batches decode to the same results."""
    long_source = tmp_path / ("deep/" * 40) / "config.json"
    long_source.parent.mkdir(parents=True)
    write_json_atomic(
        long_source,
        {
            "auths": {
                "reg.example.com": {"username": "ü" * 70, "password": "p" * 300, "identitytoken": "id-tok"},
                "https://reg.example.com/v2/team": {"auth": _b64("team", "pw:with:colons"), "registrytoken": "rt"},
                "*.example.com": {"username": "", "password": ""},
                "index.docker.io": {"username": "hub", "password": "h"},
            }
        },
    )
    for policy, duration in (("auto", 300), ("Image", 0), ("Registry", 86400 * 365)):
        resolver = service.Resolver(
            service.Options(
                root_dir=str(long_source.parent),
                home=str(tmp_path / "home"),
                cwd=str(tmp_path),
                cache_policy=policy,
                cache_duration=duration,
            )
        )
        resolver.load()
        images = ["reg.example.com/team/app", "a.example.com/x", "nginx", "quay.io/x", "reg.example.com/other"]
        for image in images:
            expected = answer_to_pb(resolver.get_credentials(image)).SerializeToString()
            assert resolver.answer_pb(image) == expected, (policy, image)
        batch = pb.BatchGetCredentialsResponse.FromString(resolver.batch_pb([*images, "UPPER/Case//x", ""]))
        assert [r.image for r in batch.results] == [*images, "UPPER/Case//x", ""]
        for r, image in zip(batch.results, images, strict=False):
            assert r.WhichOneof("result") == "response"
            assert r.response == answer_to_pb(resolver.get_credentials(image))
        for r in batch.results[-2:]:
            assert r.WhichOneof("result") == "error"
            assert r.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
            assert r.error.reason in ("normalized_name_not_lowercase", "invalid_format", "name_empty")
            assert "p" * 300 not in r.error.message


def test_batch_requests_are_read_by_the_core(unix_server: Running, sources: Sources) -> None:
    """Batch requests reach the core as bytes: every other field is skipped, slices agree with the
    sequence API, and malformed bytes are INVALID_ARGUMENT with a message that names no value."""
    images = ["reg.example.com/a", "bad//image", "other.example.com:5000/x", "nginx"]
    req = pb.BatchGetCredentialsRequest(
        images=images, namespace="ns", annotations={"k": CANARY_TOKEN}, service_account_token=CANARY_TOKEN
    ).SerializeToString()
    resolver = service.Resolver(make_options(sources.config))
    resolver.load()
    assert resolver.batch_pb_request(req, 0, 4) == resolver.batch_pb(images)
    assert resolver.batch_pb_request(req, 1, 3) == resolver.batch_pb(images[1:3])
    assert resolver.batch_pb_request(req, 3, 99) == resolver.batch_pb(images[3:])
    # Slices from one scan: their answers concatenate to the whole batch's answer.
    for per_slice in (1, 3, 4):
        slices = resolver.batch_slices(req, per_slice)
        assert [n for _, _, n in slices] == [min(per_slice, len(images) - i) for i in range(0, len(images), per_slice)]
        assert b"".join(resolver.batch_pb_span(req, s, e) for s, e, _ in slices) == resolver.batch_pb(images)
    got = unix_server.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest.FromString(req), timeout=5)
    assert [r.image for r in got.results] == images
    assert got.results[1].error.reason == "invalid_format"
    raw: Any = unix_server.channel.unary_unary("/pullkey.v1.CredentialService/BatchGetCredentials")
    for bad in (b"\x0a\x05ab", b"\x0a\x02\xff\xfe", b"\x0b"):
        with pytest.raises(grpc.RpcError) as info:
            raw(bad, timeout=5)
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "malformed BatchGetCredentialsRequest" in (info.value.details() or "")


def test_batch_over_limit_is_invalid_argument(sources: Sources, sock_path: Path) -> None:
    with running_server(make_options(sources.config), f"unix://{sock_path}", max_batch=3, watch_interval=0) as r:
        ok = r.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=["a"] * 3), timeout=5)
        assert len(ok.results) == 3
        with pytest.raises(grpc.RpcError) as info:
            r.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=["a"] * 4), timeout=5)
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "limit of 3" in (info.value.details() or "")


def test_explain_is_redacted(unix_server: Running) -> None:
    assert not {"password", "identity_token", "registry_token", "auth"} & {
        f.name for m in (pb.ExplainResponse, pb.ExplainedCredential, pb.RejectedKey) for f in m.DESCRIPTOR.fields
    }
    resp = unix_server.stub.Explain(pb.ExplainRequest(image="reg.example.com/team/app"), timeout=5)
    assert resp.repository == "reg.example.com/team/app"
    assert [(c.key, c.username) for c in resp.credentials] == [
        ("reg.example.com/team", "alice"),
        ("reg.example.com", "alice"),
    ]
    assert [r.key for r in resp.rejected] == ["other.example.com:5000"]
    assert all(r.reason for r in resp.rejected)
    wire = resp.SerializeToString()
    for canary in (CANARY_PW, CANARY_TOKEN, CANARY_AUTH_PW):
        assert canary.encode() not in wire


@pytest.mark.parametrize(
    ("ref", "normalize", "expect"),
    [
        ("ubuntu", True, ("docker.io", "library/ubuntu", "", "", "docker.io/library/ubuntu", "Always")),
        (
            "reg.example.com:5000/team/app:v1",
            True,
            ("reg.example.com:5000", "team/app", "v1", "", "reg.example.com:5000/team/app", "IfNotPresent"),
        ),
        (
            "reg.example.com/app@sha256:" + "a" * 64,
            False,
            ("reg.example.com", "app", "", "sha256:" + "a" * 64, "reg.example.com/app", "IfNotPresent"),
        ),
    ],
)
def test_parse_reference(unix_server: Running, ref: str, normalize: bool, expect: tuple[str, ...]) -> None:
    r = unix_server.stub.ParseReference(pb.ParseReferenceRequest(reference=ref, normalize=normalize), timeout=5)
    assert (r.domain, r.path, r.tag, r.digest, r.repository, r.default_pull_policy) == expect
    assert r.normalized.startswith(r.repository)
    assert r.familiar


def test_parse_reference_without_normalize_keeps_the_short_form(unix_server: Running) -> None:
    r = unix_server.stub.ParseReference(pb.ParseReferenceRequest(reference="ubuntu", normalize=False), timeout=5)
    assert (r.domain, r.path) == ("", "ubuntu")


@pytest.fixture
def strict_server(sources: Sources, sock_path: Path) -> Iterator[Running]:
    opts = build_options(str(sources.config), None, None, strict=True)
    with running_server(opts, f"unix://{sock_path}", watch_interval=0) as r:
        yield r


def test_reload_rpc_reports_counts_and_keeps_last_good(strict_server: Running, sources: Sources) -> None:
    unix_server = strict_server
    resp = unix_server.stub.Reload(pb.ReloadRequest(), timeout=10)
    assert resp.loaded is True
    assert resp.credential_count == 3
    assert resp.source_count >= 2
    img = pb.GetCredentialsRequest(image="reg.example.com/x")
    assert unix_server.stub.GetCredentials(img, timeout=5).credentials[0].username == "alice"  # now memoised
    sources.write_docker("bob", "pw2")
    assert unix_server.stub.Reload(pb.ReloadRequest(), timeout=10).loaded is True
    assert unix_server.stub.GetCredentials(img, timeout=5).credentials[0].username == "bob"
    sources.docker.write_text('{"auths": {"reg.example.com": {"auth": ')  # malformed: reload must fail
    bad = unix_server.stub.Reload(pb.ReloadRequest(), timeout=10)  # strict: a malformed source fails the reload
    assert bad.loaded is False
    assert str(sources.docker) in bad.message and CANARY_PW not in bad.message  # names the file, not a value
    assert bad.credential_count == 3  # the state still served
    assert unix_server.stub.GetCredentials(img, timeout=5).credentials[0].username == "bob"


# --------------------------------------------------------------------------------------------------
# Status codes


class _Boom(service.Resolver):
    """A resolver whose lookups fail unexpectedly, with a secret in the exception message."""

    def get_credentials(self, image: str) -> service.Answer:
        raise RuntimeError(f"boom with {CANARY_PW}")

    def answer_pb(self, image: str) -> bytes:
        raise RuntimeError(f"boom with {CANARY_PW}")


def test_error_codes(sources: Sources, sock_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    opts = make_options(sources.config)
    resolver = _Boom(opts)
    with running_server(opts, f"unix://{sock_path}", resolver=resolver, watch_interval=0) as r:
        cases: list[tuple[Callable[[], Any], grpc.StatusCode]] = [
            (
                lambda: r.stub.Explain(pb.ExplainRequest(image="UPPER/Case"), timeout=5),
                grpc.StatusCode.INVALID_ARGUMENT,
            ),
            (
                lambda: r.stub.ParseReference(pb.ParseReferenceRequest(reference="a//b"), timeout=5),
                grpc.StatusCode.INVALID_ARGUMENT,
            ),
            (lambda: r.stub.GetCredentials(pb.GetCredentialsRequest(image="x"), timeout=5), grpc.StatusCode.INTERNAL),
        ]
        for call, code in cases:
            with pytest.raises(grpc.RpcError) as info:
                call()
            assert info.value.code() is code, info.value.details()
            if code is grpc.StatusCode.INTERNAL:
                assert info.value.details() == INTERNAL_MESSAGE
            assert CANARY_PW not in (info.value.details() or "")
    assert CANARY_PW not in capfd.readouterr().err


def test_invalid_image_is_invalid_argument(unix_server: Running) -> None:
    with pytest.raises(grpc.RpcError) as info:
        unix_server.stub.GetCredentials(pb.GetCredentialsRequest(image="Reg.Example.com/UPPER//x"), timeout=5)
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "UPPER" in (info.value.details() or "")


def test_not_loaded_is_failed_precondition_and_health_flips(sources: Sources, sock_path: Path) -> None:
    with running_server(make_options(sources.config), f"unix://{sock_path}", load=False, watch_interval=0) as r:
        for name in ("", SERVICE):
            assert r.health(name) == health_pb2.HealthCheckResponse.NOT_SERVING
        with pytest.raises(grpc.RpcError) as info:
            r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5)
        assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(grpc.RpcError) as info:
            r.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=["reg.example.com/a"]), timeout=5)
        assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert r.stub.Reload(pb.ReloadRequest(), timeout=10).loaded  # the first successful load
        for name in ("", SERVICE):
            assert r.health(name) == health_pb2.HealthCheckResponse.SERVING
        assert r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5).credentials


def test_failed_first_load_is_retried(sources: Sources, sock_path: Path) -> None:
    """A missing config at start: NOT_SERVING and FAILED_PRECONDITION, then SERVING once the file appears."""
    late = sources.dir / "late.json"
    with running_server(make_options(late), f"unix://{sock_path}", watch_interval=0.1) as r:
        assert r.health() == health_pb2.HealthCheckResponse.NOT_SERVING
        with pytest.raises(grpc.RpcError) as info:
            r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5)
        assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        os.replace(sources.config, late)
        deadline = time.monotonic() + 10
        while r.health() != health_pb2.HealthCheckResponse.SERVING:
            assert time.monotonic() < deadline, "the load was not retried"
            time.sleep(0.05)
        assert r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5).credentials


class _Slow(service.Resolver):
    def __init__(self, options: service.Options, delay: float) -> None:
        super().__init__(options)
        self.delay, self.calls = delay, 0

    def get_credentials(self, image: str) -> service.Answer:
        self.calls += 1
        time.sleep(self.delay)
        return super().get_credentials(image)

    def answer_pb(self, image: str) -> bytes:
        self.calls += 1
        time.sleep(self.delay)
        return super().answer_pb(image)

    def batch_pb_request(self, request: bytes, start: int, stop: int) -> bytes:
        out = super().batch_pb_request(request, start, stop)
        n = len(pb.BatchGetCredentialsResponse.FromString(out).results)
        self.calls += n
        time.sleep(self.delay * n)
        return out

    def batch_pb_span(self, request: bytes, start: int, end: int) -> bytes:
        out = super().batch_pb_span(request, start, end)
        n = len(pb.BatchGetCredentialsResponse.FromString(out).results)
        self.calls += n
        time.sleep(self.delay * n)
        return out


def test_batch_honours_deadline(sources: Sources, sock_path: Path) -> None:
    opts = make_options(sources.config)
    slow = _Slow(opts, 0.0002)
    with running_server(opts, f"unix://{sock_path}", resolver=slow, watch_interval=0) as r:
        images = [f"reg.example.com/a{i}" for i in range(10_000)]  # distinct: no memoised answers
        with pytest.raises(grpc.RpcError) as info:
            r.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=images), timeout=0.3)
        assert info.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        time.sleep(0.3)
        assert slow.calls < 10_000  # the server stopped working on it


# --------------------------------------------------------------------------------------------------
# Health, reflection, metrics


def test_health_and_reflection(unix_server: Running) -> None:
    assert unix_server.health() == health_pb2.HealthCheckResponse.SERVING
    assert unix_server.health(SERVICE) == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.RpcError) as info:
        unix_server.health("no.such.Service")
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    stub = reflection_pb2_grpc.ServerReflectionStub(unix_server.channel)
    replies = list(
        stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    )
    names = {s.name for s in replies[0].list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names
    req = reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE)
    replies = list(stub.ServerReflectionInfo(iter([req]), timeout=5))
    assert replies[0].file_descriptor_response.file_descriptor_proto  # grpcurl can describe it


def test_metrics_scrape(sources: Sources, sock_path: Path) -> None:
    opts = make_options(sources.config)
    with running_server(opts, f"unix://{sock_path}", metrics_listen="127.0.0.1:0", watch_interval=0) as r:
        for _ in range(3):
            r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5)
        with pytest.raises(grpc.RpcError):
            r.stub.GetCredentials(pb.GetCredentialsRequest(image="A//B"), timeout=5)
        r.health()
        url = f"http://127.0.0.1:{r.server.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = resp.read().decode()
        labels = 'grpc_service="pullkey.v1.CredentialService",grpc_method="GetCredentials"'
        assert f'pullkey_grpc_server_handled_total{{{labels},grpc_code="OK"}} 3' in text
        assert f'pullkey_grpc_server_handled_total{{{labels},grpc_code="INVALID_ARGUMENT"}} 1' in text
        assert f'pullkey_grpc_server_handling_seconds_bucket{{{labels},le="+Inf"}} 4' in text
        assert f"pullkey_grpc_server_handling_seconds_count{{{labels}}} 4" in text
        assert 'grpc_method="Check",grpc_code="OK"} 1' in text
        assert "pullkey_loaded 1" in text
        # the standard process families operators' dashboards expect, with plausible values
        value = {m[0]: float(m[1]) for m in re.findall(r"^(process_\w+) (\S+)$", text, re.M)}
        assert value["process_resident_memory_bytes"] > 1 << 20
        assert value["process_virtual_memory_bytes"] >= value["process_resident_memory_bytes"]
        assert time.time() - 3600 < value["process_start_time_seconds"] <= time.time()
        assert 0 < value["process_open_fds"] <= value["process_max_fds"]
        assert value["process_cpu_seconds_total"] > 0
        assert text.count("# TYPE process_") == 6
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{r.server.metrics_port}/nope", timeout=5)
        assert info.value.code == 404
        info.value.close()


# --------------------------------------------------------------------------------------------------
# Unix socket hygiene


def test_socket_permissions(unix_server: Running, sock_path: Path) -> None:
    assert stat.S_ISSOCK(os.lstat(sock_path).st_mode)
    assert stat.S_IMODE(os.lstat(sock_path).st_mode) == 0o600
    assert stat.S_IMODE(os.lstat(sock_path.parent).st_mode) == 0o700


def test_stale_socket_replaced_live_socket_refused(sources: Sources, sock_path: Path) -> None:
    sock_path.parent.mkdir(parents=True, mode=0o700)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock_path))
    stale.close()  # the file stays; nobody listens: connect is refused
    assert sock_path.exists()
    opts = make_options(sources.config)
    with running_server(opts, f"unix://{sock_path}", watch_interval=0) as r:
        assert r.health() == health_pb2.HealthCheckResponse.SERVING
        lt = LoopThread()
        try:
            with pytest.raises(ListenError, match="already listening"):
                lt.run(create_server(opts, f"unix://{sock_path}"))
        finally:
            lt.close()
        assert r.health() == health_pb2.HealthCheckResponse.SERVING  # the live server kept its socket
    assert not sock_path.exists()  # removed on stop


def test_regular_file_not_replaced(sources: Sources, sock_path: Path) -> None:
    sock_path.parent.mkdir(parents=True, mode=0o700)
    sock_path.write_text("not a socket")
    lt = LoopThread()
    try:
        with pytest.raises(ListenError, match="not a socket"):
            lt.run(create_server(make_options(sources.config), f"unix://{sock_path}"))
    finally:
        lt.close()
    assert sock_path.read_text() == "not a socket"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the directory away")
def test_socket_directory_of_another_user_is_refused(sources: Sources, sock_path: Path) -> None:
    sock_path.parent.mkdir(parents=True, mode=0o700)
    os.chown(sock_path.parent, 65534, 65534)
    lt = LoopThread()
    try:
        with pytest.raises(ListenError, match="owned by uid 65534"):
            lt.run(create_server(make_options(sources.config), f"unix://{sock_path}"))
    finally:
        lt.close()


def test_existing_socket_directory_is_never_chmodded(sources: Sources, sock_path: Path) -> None:
    """Issue #10 item 4: only a directory pullkey creates is made 0700 (test_socket_permissions); an existing
    one keeps its mode (it used to be tightened to 0700, even /tmp), and the socket itself is 0600."""
    sock_path.parent.mkdir(parents=True, mode=0o755)
    os.chmod(sock_path.parent, 0o755)
    with running_server(make_options(sources.config), f"unix://{sock_path}", watch_interval=0):
        assert stat.S_IMODE(os.lstat(sock_path.parent).st_mode) == 0o755
        assert stat.S_IMODE(os.lstat(sock_path).st_mode) == 0o600
    assert stat.S_IMODE(os.lstat(sock_path.parent).st_mode) == 0o755


def test_default_listen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert default_listen() == "unix:///run/pullkey/pullkey.sock"
    monkeypatch.setattr(os, "geteuid", lambda: 1234)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert default_listen() == f"unix://{tmp_path}/pullkey/pullkey.sock"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert default_listen() == "unix:///tmp/pullkey-1234/pullkey.sock"


def test_listen_address_parsing() -> None:
    p = ListenAddress.parse
    assert p("unix:///run/x.sock") == ListenAddress("unix", path="/run/x.sock")
    assert p("tcp://127.0.0.1:50051").grpc_target() == "127.0.0.1:50051"
    assert p("[::1]:0") == ListenAddress("tcp", host="::1", port=0)
    assert p("tcp://[::]:7").grpc_target() == "[::]:7"
    for bad in ("unix:", "tcp://host", "host:99999", ":80", "tcp://:1"):
        with pytest.raises(UsageError):
            p(bad)
    assert default_listen().startswith("unix://")
    assert default_listen().endswith("/pullkey/pullkey.sock")


# --------------------------------------------------------------------------------------------------
# TCP: TLS and mTLS with certificates made here


@dataclasses.dataclass
class Pki:
    ca: bytes
    server_cert: Path
    server_key: Path
    ca_file: Path
    client_cert: bytes
    client_key: bytes


def _make_pki(d: Path) -> Pki:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def pem_key(k: ec.EllipticCurvePrivateKey) -> bytes:
        return k.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("pullkey test CA"))
        .issuer_name(name("pullkey test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(cn: str, usage: x509.ObjectIdentifier, san: list[x509.GeneralName]) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        b = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if san:
            b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM), pem_key(key)

    s_cert, s_key = leaf(
        "localhost",
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    c_cert, c_key = leaf("client", ExtendedKeyUsageOID.CLIENT_AUTH, [])
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    (d / "server.crt").write_bytes(s_cert)
    (d / "server.key").write_bytes(s_key)
    (d / "ca.crt").write_bytes(ca_pem)
    return Pki(ca_pem, d / "server.crt", d / "server.key", d / "ca.crt", c_cert, c_key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return _make_pki(tmp_path_factory.mktemp("pki"))


def test_tls(sources: Sources, pki: Pki) -> None:
    def chan(target: str) -> grpc.Channel:
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=pki.ca))

    opts = make_options(sources.config)
    with running_server(
        opts,
        "tcp://127.0.0.1:0",
        tls_cert=str(pki.server_cert),
        tls_key=str(pki.server_key),
        channel_factory=chan,
        allow_unauthenticated_clients=True,  # TLS without mTLS must be asked for (issue #10 item 14)
    ) as r:
        assert r.target.startswith("127.0.0.1:") and not r.target.endswith(":0")
        resp = r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5)
        assert resp.credentials[0].username == "alice"
        # a plaintext client cannot talk to the TLS port
        with grpc.insecure_channel(r.target) as plain, pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=2)
        assert info.value.code() is grpc.StatusCode.UNAVAILABLE


def test_mtls_requires_client_certificate(sources: Sources, pki: Pki) -> None:
    def chan(target: str) -> grpc.Channel:
        creds = grpc.ssl_channel_credentials(
            root_certificates=pki.ca, private_key=pki.client_key, certificate_chain=pki.client_cert
        )
        return grpc.secure_channel(target, creds)

    opts = make_options(sources.config)
    with running_server(
        opts,
        "tcp://127.0.0.1:0",
        tls_cert=str(pki.server_cert),
        tls_key=str(pki.server_key),
        tls_client_ca=str(pki.ca_file),
        channel_factory=chan,
    ) as r:
        assert r.health() == health_pb2.HealthCheckResponse.SERVING
        no_cert = grpc.secure_channel(r.target, grpc.ssl_channel_credentials(root_certificates=pki.ca))
        with no_cert, pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(no_cert).Check(health_pb2.HealthCheckRequest(), timeout=2)
        assert info.value.code() is grpc.StatusCode.UNAVAILABLE


def test_tls_certificate_rotation_without_restart(sources: Sources, tmp_path: Path) -> None:
    import shutil

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "live").mkdir()
    old, new = _make_pki(tmp_path / "a"), _make_pki(tmp_path / "b")
    cert, key = tmp_path / "live" / "server.crt", tmp_path / "live" / "server.key"
    shutil.copy(old.server_cert, cert)
    shutil.copy(old.server_key, key)

    def check(target: str, ca: bytes) -> grpc.StatusCode:
        opts = [("grpc.use_local_subchannel_pool", 1)]  # a fresh connection, hence a fresh handshake
        with grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=ca), options=opts) as ch:
            try:
                health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=3)
            except grpc.RpcError as exc:
                return exc.code()
        return grpc.StatusCode.OK

    opts = make_options(sources.config)
    with running_server(
        opts,
        "tcp://127.0.0.1:0",
        tls_cert=str(cert),
        tls_key=str(key),
        watch_interval=0,
        allow_unauthenticated_clients=True,  # TLS without mTLS must be asked for (issue #10 item 14)
    ) as r:
        assert check(r.target, old.ca) is grpc.StatusCode.OK
        shutil.copy(new.server_key, key)  # half-way through a rotation: the pair does not match
        assert check(r.target, old.ca) is grpc.StatusCode.OK  # the last good certificate still serves
        shutil.copy(new.server_cert, cert)
        assert check(r.target, new.ca) is grpc.StatusCode.OK
        assert check(r.target, old.ca) is grpc.StatusCode.UNAVAILABLE


def test_create_server_refuses_plaintext_tcp(sources: Sources) -> None:
    lt = LoopThread()
    try:
        with pytest.raises(UsageError, match="--insecure"):
            lt.run(create_server(make_options(sources.config), "tcp://127.0.0.1:0"))
        with pytest.raises(UsageError, match="both --tls-cert and --tls-key"):
            lt.run(create_server(make_options(sources.config), "127.0.0.1:0", tls_cert="x"))
    finally:
        lt.close()


# --------------------------------------------------------------------------------------------------
# Reload under concurrent load: zero failed calls, every answer all-old or all-new


def test_reload_under_load_is_atomic(sources: Sources, sock_path: Path) -> None:
    opts = make_options(sources.config)
    with running_server(opts, f"unix://{sock_path}", watch_interval=0.05) as r:
        stub = r.stub
        req = pb.GetCredentialsRequest(image="reg.example.com/team/app")
        stop = threading.Event()
        seen: dict[tuple[str, ...], int] = {}
        failures: list[str] = []

        def hammer() -> None:
            while not stop.is_set():
                try:
                    resp = stub.GetCredentials(req, timeout=5)
                except grpc.RpcError as exc:
                    failures.append(f"{exc.code()}: {exc.details()}")
                    continue
                key = tuple(f"{c.key}={c.username}" for c in resp.credentials)
                seen[key] = seen.get(key, 0) + 1

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(hammer) for _ in range(4)]
            users = [f"user{i}" for i in range(12)]
            for i, user in enumerate(users):
                time.sleep(0.08)
                sources.write_docker(user, f"pw-{user}")
                if i % 3 == 0:
                    stub.Reload(pb.ReloadRequest(), timeout=10)  # RPC reloads race the watcher's
            time.sleep(0.3)
            stop.set()
            for f in futures:
                f.result()
        assert failures == []
        allowed = {(f"reg.example.com/team={u}", f"reg.example.com={u}") for u in ["alice", *users]}
        assert set(seen) <= allowed, set(seen) - allowed
        assert len(seen) >= 3  # the reloads were observed while under load
        final = stub.GetCredentials(req, timeout=5)
        assert final.credentials[0].username == users[-1]
        assert sum(seen.values()) > 200


# --------------------------------------------------------------------------------------------------
# The daemon as a process: flags, exit codes, signals, logs


def _wait_serving(target: str, proc: subprocess.Popen[str], timeout: float = 20) -> grpc.Channel:
    ch = grpc.insecure_channel(target)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"daemon exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            st = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=1).status
            if st == health_pb2.HealthCheckResponse.SERVING:
                return ch
        except grpc.RpcError:
            pass
        time.sleep(0.05)
    raise AssertionError("daemon did not become SERVING")


def test_plaintext_tcp_refused_without_insecure(sources: Sources) -> None:
    proc = subprocess.run(
        serve_cmd("--config", str(sources.config), "--listen", "tcp://127.0.0.1:0"),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "--insecure" in proc.stderr and "refusing plaintext TCP" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_daemon_sighup_sigterm_and_no_secrets_in_logs(sources: Sources, sock_path: Path, log_format: str) -> None:
    target = f"unix://{sock_path}"
    global_flags = ("--config", str(sources.config), "--root-dir", str(sources.dir), "--search-policy", "merge")
    args = ["--v=2", "--cache-duration", "90s", "--listen", target, "--log-format", log_format]
    args += ["--log-level", "debug", "--watch-interval", "0"]
    cmd = serve_cmd(*args, global_flags=global_flags)
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ch = _wait_serving(target, proc)
        stub = pb_grpc.CredentialServiceStub(ch)
        first = stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5)
        assert first.credentials and first.cache_duration.seconds == 90  # --cache-duration beats the config's 5m
        stub.GetCredentials(pb.GetCredentialsRequest(image="other.example.com:5000/a"), timeout=5)
        stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=["reg.example.com/a", "B//b"]), timeout=5)
        stub.Explain(pb.ExplainRequest(image="reg.example.com/a"), timeout=5)
        with pytest.raises(grpc.RpcError):
            stub.GetCredentials(pb.GetCredentialsRequest(image="Bad//image"), timeout=5)
        # a malformed source that quotes a canary, then SIGHUP: the reload fails or skips it, nothing leaks
        sources.docker.write_text('{"auths": {"reg.example.com": {"password": "' + CANARY_PW + '", ')
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        # then a good source and SIGHUP: the new credentials are served
        sources.write_docker("dave", CANARY_PW)
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            resp = stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5)
            if resp.credentials and resp.credentials[0].username == "dave":
                break
            time.sleep(0.05)
        else:
            raise AssertionError("SIGHUP did not reload")
        # SIGTERM with a call in flight: it succeeds, then the daemon exits 0 (calls that reach the server
        # after SIGTERM are refused; test_stop_lets_in_flight_calls_finish pins the grace period down)
        big = pb.BatchGetCredentialsRequest(images=["reg.example.com/a"] * 10_000)
        fut = stub.BatchGetCredentials.future(big, timeout=10)
        time.sleep(0.03)
        proc.send_signal(signal.SIGTERM)
        assert len(fut.result().results) == 10_000
        ch.close()
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = proc.communicate(timeout=10)
    assert out == ""
    for canary in (CANARY_PW, CANARY_TOKEN, CANARY_AUTH_PW, _b64("alice", CANARY_PW)):
        assert canary not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if log_format == "json":
        docs = [json.loads(ln) for ln in lines]
        msgs = [d["msg"] for d in docs]
        assert all({"time", "level", "logger", "msg"} <= set(d) for d in docs)
    else:
        msgs = lines
        odd = [
            ln
            for ln in lines
            if not re.match(r"^\d{4}-\d\d-\d\dT[\d:.]+Z [A-Z]+ \S+: ", ln)
            and not re.match(r"^[IWEF]\d{4} \d\d:\d\d:", ln)  # grpc C-core writes its own lines
        ]
        assert odd == []
    text = "\n".join(msgs)
    for expected in ("serving", "sources loaded", "sources reloaded", "shutting down", "stopped"):
        assert expected in text, expected
    assert not sock_path.exists()


def test_stop_lets_in_flight_calls_finish(sources: Sources, sock_path: Path) -> None:
    opts = make_options(sources.config)
    slow = _Slow(opts, 0.4)
    lt = LoopThread()
    try:
        server, target = lt.run(create_server(opts, f"unix://{sock_path}", resolver=slow, watch_interval=0))
        lt.run(server.start())
        with grpc.insecure_channel(target) as ch:
            stub = pb_grpc.CredentialServiceStub(ch)
            fut = stub.GetCredentials.future(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=10)
            time.sleep(0.1)
            t0 = time.monotonic()
            lt.run(server.stop(5.0))
            assert time.monotonic() - t0 < 4.5
            assert fut.result().credentials[0].username == "alice"
    finally:
        lt.close()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """main() configures the root and pullkey loggers for the daemon process; put the test runner's back afterwards."""
    import logging

    root, ours = logging.getLogger(), logging.getLogger("pullkey")
    handlers, level, our_level = list(root.handlers), root.level, ours.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    ours.setLevel(our_level)


@pytest.mark.usefixtures("restore_logging")
def test_main_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        serve_main(["--listen", "tcp://127.0.0.1:0", "--tls-cert", "only-cert.pem"])
    assert info.value.code == 2
    assert "both --tls-cert and --tls-key" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        serve_main(["--log-format", "xml"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        serve_main(["--cache-duration", "five minutes", "--listen", "tcp://127.0.0.1:0", "--insecure"])
    assert info.value.code == 2
    assert "five minutes" in capsys.readouterr().err


def test_generated_code_matches_grpcio_floor() -> None:
    import tomllib

    from pullkey.v1 import credential_pb2_grpc

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    floor = next(d for d in deps if re.match(r"grpcio\s*>=", d)).split(">=")[1].split(",")[0].strip()
    gen = credential_pb2_grpc.GRPC_GENERATED_VERSION

    def ver(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in v.split("."))

    assert ver(floor) >= ver(gen), f"pyproject grpcio>={floor} is below GRPC_GENERATED_VERSION {gen}"


def test_generated_code_matches_protobuf_floor() -> None:
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    floor = next(d for d in deps if re.match(r"protobuf\s*>=", d)).split(">=")[1].split(",")[0].strip()
    text = (PYTHON_DIR / "pullkey" / "v1" / "credential_pb2.py").read_text()
    m = re.search(
        r"ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.PUBLIC,\s*(\d+),\s*(\d+),\s*(\d+),", text
    )
    assert m is not None
    generated = tuple(int(x) for x in m.groups())
    assert tuple(int(x) for x in floor.split(".")) + (0,) * (3 - len(floor.split("."))) >= generated, (
        f"protobuf>={floor} is below {'.'.join(map(str, generated))} (credential_pb2.py refuses older runtimes)"
    )


def test_heap_is_trimmed_once_a_batch_burst_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[str] = []
    monkeypatch.setattr(memory, "release_free_memory", lambda: trims.append("trim"))

    async def scenario() -> None:
        d = Daemon(resolver=service.Resolver(), metrics=Metrics())
        task = asyncio.create_task(d.trim_after_bursts(interval=0.05, threshold=100))
        for _ in range(20):  # light traffic, below the threshold: never a trim
            d.batch_bytes += 1
            await asyncio.sleep(0.01)
        assert trims == []
        for _ in range(20):  # a burst: every interval busy, no trim while it lasts
            d.batch_bytes += 1000
            await asyncio.sleep(0.01)
        assert trims == []
        await asyncio.sleep(0.3)  # quiet again: one trim
        task.cancel()
        assert trims == ["trim"]

    asyncio.run(scenario())


# --------------------------------------------------------------------------------------------------
# Error classes and codes across gRPC


def _reason(exc: grpc.RpcError) -> str | None:
    trailers: Any = exc.trailing_metadata() or ()  # (key, value) pairs at run time, whatever the stub says
    return next((str(v) for k, v in trailers if k == REASON_KEY), None)


@pytest.mark.parametrize("answer_cache", [DEFAULT_ANSWER_CACHE, 0])
def test_error_code_is_preserved_across_grpc(sources: Sources, sock_path: Path, answer_cache: int) -> None:
    """An invalid image's error keeps its code: the unary call's trailer (fresh or memoised), the batch
    item's reason and the library's InvalidReference.code are one value."""
    images = ["UPPER/Case", "a//b", "Reg.Example.com/UPPER//x", ""]
    expected = {}
    for image in images:
        with pytest.raises(pullkey.InvalidReference) as info:
            pullkey.parse_reference(image)
        expected[image] = info.value.code
    assert len(set(expected.values())) > 1  # distinct codes, so a fixed reason could not pass
    opts = make_options(sources.config)
    with running_server(opts, f"unix://{sock_path}", watch_interval=0, answer_cache_size=answer_cache) as r:
        batch = r.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=images), timeout=5)
        assert [item.error.reason for item in batch.results] == [expected[i] for i in images]
        for item in batch.results:
            assert item.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        for image in images:
            for _ in range(2):  # the second call is answered from the memo (when on)
                with pytest.raises(grpc.RpcError) as rpc:
                    r.stub.GetCredentials(pb.GetCredentialsRequest(image=image), timeout=5)
                assert rpc.value.code() is grpc.StatusCode.INVALID_ARGUMENT
                assert _reason(rpc.value) == expected[image], image
                item = next(i for i in batch.results if i.image == image)
                assert rpc.value.details() == item.error.message
            with pytest.raises(grpc.RpcError) as rpc:
                r.stub.Explain(pb.ExplainRequest(image=image), timeout=5)
            assert _reason(rpc.value) == expected[image]
            with pytest.raises(grpc.RpcError) as rpc:
                r.stub.ParseReference(pb.ParseReferenceRequest(reference=image, normalize=True), timeout=5)
            assert _reason(rpc.value) == expected[image]
        with pytest.raises(grpc.RpcError) as rpc:
            r.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=["a"] * 10_001), timeout=5)
        assert (rpc.value.code(), _reason(rpc.value)) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid_request")


def test_not_loaded_and_internal_reasons(sources: Sources, sock_path: Path) -> None:
    with running_server(make_options(sources.config), f"unix://{sock_path}", load=False, watch_interval=0) as r:
        with pytest.raises(grpc.RpcError) as rpc:
            r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5)
        assert (rpc.value.code(), _reason(rpc.value)) == (grpc.StatusCode.FAILED_PRECONDITION, "not_loaded")
    opts = make_options(sources.config)
    with running_server(opts, f"unix://{sock_path}", resolver=_Boom(opts), watch_interval=0) as r:
        with pytest.raises(grpc.RpcError) as rpc:
            r.stub.GetCredentials(pb.GetCredentialsRequest(image="x"), timeout=5)
        assert (rpc.value.code(), _reason(rpc.value)) == (grpc.StatusCode.INTERNAL, None)


class _NewInputError(pullkey.PullkeyError, ValueError):
    """A future error class: a caller's bad input, with a code."""

    code = "new_input_code"


class _NewStateError(pullkey.PullkeyError):
    code = ""  # a code attribute that says nothing: the class name is the reason


def test_status_mapping_table() -> None:
    cases: list[tuple[BaseException, grpc.StatusCode, str]] = [
        (pullkey.NotLoaded("x"), grpc.StatusCode.FAILED_PRECONDITION, "not_loaded"),
        (pullkey.InvalidReference("x", "name_empty"), grpc.StatusCode.INVALID_ARGUMENT, "name_empty"),
        (pullkey.InvalidRequest("x"), grpc.StatusCode.INVALID_ARGUMENT, "invalid_request"),
        (pullkey.ConfigError("x"), grpc.StatusCode.INVALID_ARGUMENT, "invalid_config"),
        (_NewInputError("x"), grpc.StatusCode.INVALID_ARGUMENT, "new_input_code"),
        (_NewStateError("x"), grpc.StatusCode.INTERNAL, "_NewStateError"),
        (RuntimeError("x"), grpc.StatusCode.INTERNAL, "RuntimeError"),
    ]
    for exc, code, reason in cases:
        assert (status_for(exc), reason_of(exc)) == (code, reason), exc
    assert {cls for cls, _ in STATUS_BY_ERROR} >= {
        pullkey.NotLoaded,
        pullkey.InvalidReference,
        pullkey.InvalidRequest,
        pullkey.ConfigError,
    }


# --------------------------------------------------------------------------------------------------
# Logging: --v raises pullkey's verbosity, not grpc's or asyncio's


def test_log_levels() -> None:
    import logging

    assert levels("info", None) == (logging.INFO, logging.WARNING)
    assert levels("info", 3) == (logging.INFO, logging.WARNING)
    assert levels("info", 4) == (logging.DEBUG, logging.WARNING)
    assert levels("debug", None) == (logging.DEBUG, logging.WARNING)
    assert levels("error", None) == (logging.ERROR, logging.ERROR)
    assert levels("info", 8) == (logging.DEBUG, logging.INFO)
    assert levels("warning", 10) == (logging.DEBUG, logging.DEBUG)


def test_serve_help_documents_verbosity() -> None:
    proc = subprocess.run(serve_cmd("--help"), env=_env(), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "--v N" in text and "grpc and asyncio" in text and "4+" in text


def test_verbose_daemon_logs_only_pullkey_debug(sources: Sources, sock_path: Path) -> None:
    """--v=4: pullkey's debug records (one per call), no line from another logger (asyncio, grpc)."""
    target = f"unix://{sock_path}"
    cmd = serve_cmd("--v=4", "--config", str(sources.config), "--listen", target, "--log-format", "json")
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ch = _wait_serving(target, proc)
        stub = pb_grpc.CredentialServiceStub(ch)
        stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5)
        with pytest.raises(grpc.RpcError):
            stub.GetCredentials(pb.GetCredentialsRequest(image="Bad//image"), timeout=5)
        ch.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    _, err = proc.communicate(timeout=10)
    docs = [json.loads(ln) for ln in err.splitlines() if ln.startswith("{")]
    assert {d["logger"] for d in docs} == {"pullkey.grpc"}, {d["logger"] for d in docs}
    assert any(d["level"] == "debug" and d["msg"] == "rpc" for d in docs)
    assert any(d["msg"] == "rejected" and d.get("reason") for d in docs)
    assert CANARY_PW not in err
