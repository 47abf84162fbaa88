"""Issue #10, the daemon's part: every input has a bounded cost, nothing one caller does stalls the others.

Each test names the defect it pins down (item numbers of issue #10) and runs a real server: the in-process
server of ``tests/test_grpc.py`` or a ``pullkey serve`` subprocess. ``tests/h2raw.py`` plays the clients
a gRPC library will not imitate (one that stops reading; one running as another uid).
"""

# ruff: noqa: F811  # the fixtures of test_grpc are imported by name, then requested as arguments

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import logging
import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import h2raw
import pytest
from grpc_health.v1 import health_pb2
from pullkey import service
from pullkey._core import MAX_EXPLAIN_REJECTED
from pullkey._sources import State
from pullkey.server import ListenError, create_server
from pullkey.server.defaults import MAX_ERROR_DETAILS, Limits
from pullkey.server.interceptor import MALFORMED_MESSAGE, REASON_KEY
from pullkey.server.memo import AnswerMemo
from pullkey.v1 import credential_pb2 as pb
from pullkey.v1 import credential_pb2_grpc as pb_grpc
from test_grpc import (  # noqa: F401  # fixtures are found by name
    CANARY_PW,
    LoopThread,
    Pki,
    Running,
    Sources,
    _b64,
    _env,
    _Slow,
    _wait_serving,
    make_options,
    pki,
    running_server,
    serve_cmd,
    sock_path,
    sources,
    write_json_atomic,
)

SERVICE = "pullkey.v1.CredentialService"
MiB = 1 << 20


def rss(pid: int) -> int:
    """Resident set size in bytes, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@contextlib.contextmanager
def daemon(*args: str, sources: Sources) -> Iterator[tuple[subprocess.Popen[str], grpc.Channel]]:
    """``pullkey serve`` on a Unix socket with ``args``; yields the process and a channel once SERVING."""
    sock = Path(f"/tmp/pkh-{os.getpid()}-{time.monotonic_ns() % 10**9}") / "pullkey.sock"
    target = f"unix://{sock}"
    cmd = serve_cmd("--listen", target, "--watch-interval", "0", *args, global_flags=("--config", str(sources.config)))
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ch = _wait_serving(target, proc)
        with ch:
            yield proc, ch
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.communicate(timeout=10)
        with contextlib.suppress(OSError):
            sock.parent.rmdir()


def wait_count(handled: dict[tuple[str, str], int], key: tuple[str, str], n: int, timeout: float = 10) -> bool:
    """True once the metrics counted ``n`` calls under ``key`` (a call is counted just after its status is sent)."""
    deadline = time.monotonic() + timeout
    while handled.get(key, 0) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return handled.get(key, 0) == n


def call_raw(ch: grpc.Channel, method: str, payload: bytes, timeout: float = 10) -> Any:
    call: Any = ch.unary_unary(f"/{method}", request_serializer=None, response_deserializer=None)
    return call(payload, timeout=timeout)


# --------------------------------------------------------------------------------------------------
# 2. The answer memo is bounded in bytes, keeps no oversized input, is replaced on reload


def test_distinct_invalid_megabyte_images_do_not_grow_the_daemon(sources: Sources) -> None:
    """Distinct invalid 1 MB images used to add ~4 MiB each for good (each error memoised with the image
    twice: 54 -> 1,659 MiB after 500; measured on the old daemon 42 -> 1,288 MiB after 300). Now the memo
    keeps no image over 1 KiB: RSS after 300 stays under 384 MiB (measured 130-350 MiB: gRPC's and the
    allocator's own buffers for 1 MB messages, flat from the first 50 on, not per image)."""
    with daemon(sources=sources) as (proc, ch):
        stub = pb_grpc.CredentialServiceStub(ch)
        for i in range(300):
            with pytest.raises(grpc.RpcError) as err:
                stub.GetCredentials(pb.GetCredentialsRequest(image=f"{i:06d}" + "B" * MiB), timeout=30)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert len(err.value.details() or "") <= MAX_ERROR_DETAILS + 64  # never the whole input
        assert rss(proc.pid) < 384 * MiB, f"RSS {rss(proc.pid) / MiB:.0f} MiB"


def test_answer_memo_bounds() -> None:
    memo = AnswerMemo(max_entries=3, max_bytes=2000, max_image=100)
    memo.put("x" * 101, b"answer")  # oversized image: never kept
    assert len(memo) == 0
    for i in range(5):
        memo.put(f"img{i}", b"a" * 10)
    assert len(memo) == 3 and memo.get("img0") is None and memo.get("img4") == b"a" * 10
    memo.put("big", b"b" * 1500)  # fits alone: older entries go until the bytes fit
    assert memo.bytes <= 2000 and memo.get("big") is not None
    memo.put("huge", b"c" * 5000)  # would not fit even alone
    assert memo.get("huge") is None and memo.bytes <= 2000
    from pullkey.errors import InvalidReference

    memo.put("Bad//x", InvalidReference("bad reference", "invalid_format", input="Bad//x"))
    kept = memo.get("Bad//x")
    assert isinstance(kept, InvalidReference) and kept.input == "" and kept.code == "invalid_format"


def test_memo_is_replaced_on_every_reload(sources: Sources, sock_path: Path) -> None:
    with running_server(make_options(sources.config), f"unix://{sock_path}", watch_interval=0) as r:
        r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5)
        with pytest.raises(grpc.RpcError):
            r.stub.GetCredentials(pb.GetCredentialsRequest(image="Bad//a"), timeout=5)
        assert len(r.server.daemon.memo) == 2
        sources.docker.write_text("{not json")  # the reload fails (last good kept): the memo still goes
        assert not r.stub.Reload(pb.ReloadRequest(), timeout=10).loaded
        assert len(r.server.daemon.memo) == 0


# --------------------------------------------------------------------------------------------------
# 4. An existing socket directory is never chmodded; a shared one without the sticky bit is refused


def _create(sources: Sources, listen: str, **kwargs: Any) -> None:
    """create_server + stop on a private loop: raises what create_server raises."""
    lt = LoopThread()
    try:
        server, _ = lt.run(create_server(make_options(sources.config), listen, watch_interval=0, **kwargs))
        lt.run(server.grpc_server.stop(None))
    finally:
        lt.close()


def test_sticky_shared_directory_is_used_as_it_is(sources: Sources, sock_path: Path) -> None:
    shared = sock_path.parent
    shared.mkdir(parents=True)
    os.chmod(shared, 0o1777)  # like /tmp
    with running_server(make_options(sources.config), f"unix://{shared}/x.sock", watch_interval=0) as r:
        assert r.health() == health_pb2.HealthCheckResponse.SERVING
        assert stat.S_IMODE(os.lstat(shared / "x.sock").st_mode) == 0o600
    assert stat.S_IMODE(os.lstat(shared).st_mode) == 0o1777


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_directory_writable_by_others_without_sticky_bit_is_refused(
    sources: Sources, sock_path: Path, mode: int
) -> None:
    sock_path.parent.mkdir(parents=True)
    os.chmod(sock_path.parent, mode)
    with pytest.raises(ListenError, match="writable by other users without the sticky bit"):
        _create(sources, f"unix://{sock_path}")
    assert stat.S_IMODE(os.lstat(sock_path.parent).st_mode) == mode
    assert not sock_path.exists()


def test_relative_socket_path_leaves_the_working_directory_alone(sources: Sources, sock_path: Path) -> None:
    cwd = sock_path.parent
    cwd.mkdir(parents=True)
    os.chmod(cwd, 0o755)
    cmd = serve_cmd(
        "--listen", "unix:rel.sock", "--watch-interval", "0", global_flags=("--config", str(sources.config))
    )
    proc = subprocess.Popen(cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_serving(f"unix://{cwd}/rel.sock", proc).close()
        assert stat.S_IMODE(os.lstat(cwd).st_mode) == 0o755
        assert stat.S_IMODE(os.lstat(cwd / "rel.sock").st_mode) == 0o600
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert stat.S_IMODE(os.lstat(cwd).st_mode) == 0o755


# --------------------------------------------------------------------------------------------------
# 5. Server deadline for every call; answers nobody reads are bounded and not counted OK


def test_server_deadline_applies_when_the_client_sets_none(sources: Sources, sock_path: Path) -> None:
    opts = make_options(sources.config)
    slow = _Slow(opts, 0.001)  # 3,000 images: ~3 s of lookups
    limits = Limits(max_rpc_seconds=0.5)
    with running_server(opts, f"unix://{sock_path}", resolver=slow, watch_interval=0, limits=limits) as r:
        images = [f"reg.example.com/a{i}" for i in range(3000)]
        t0 = time.monotonic()
        with pytest.raises(grpc.RpcError) as err:
            r.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=images))  # no client deadline
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert "--max-rpc-seconds" in (err.value.details() or "")
        assert time.monotonic() - t0 < 2.5
        assert slow.calls < 3000
        handled = r.server.daemon.metrics.handled
        assert wait_count(handled, (f"/{SERVICE}/BatchGetCredentials", "DEADLINE_EXCEEDED"), 1)


def test_unread_answers_are_bounded_and_counted_as_failures(sources: Sources, sock_path: Path) -> None:
    """Callers that offer a zero flow-control window and never read (400 of them took the old daemon from
    65 to 692 MiB, counted OK, forever): past the pending-answer budget new lookups are refused; at the
    server deadline their calls count as DEADLINE_EXCEEDED; their connections are closed at the latest
    --max-rpc-seconds after the maximum connection age, and the budget is free again."""
    limits = Limits(max_pending_answer_bytes=MiB, max_rpc_seconds=1.0, max_connection_age=2.0)
    with running_server(make_options(sources.config), f"unix://{sock_path}", watch_interval=0, limits=limits) as r:
        request = pb.BatchGetCredentialsRequest(images=[f"reg.example.com/a{i}" for i in range(1000)])
        one = len(r.stub.BatchGetCredentials(request, timeout=10).SerializeToString())
        assert one > 100_000
        method = f"/{SERVICE}/BatchGetCredentials"
        t0 = time.monotonic()
        stalled = [
            h2raw.start_call(str(sock_path), method, request.SerializeToString(), window=0)
            for _ in range(MiB // one + 2)
        ]
        time.sleep(0.3)
        with pytest.raises(grpc.RpcError) as err:
            r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/x"), timeout=5)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "--max-pending-answer-bytes" in (err.value.details() or "")
        handled = r.server.daemon.metrics.handled
        refused = handled.get((method, "RESOURCE_EXHAUSTED"), 0)  # a stalled call that came past the budget
        assert wait_count(handled, (method, "DEADLINE_EXCEEDED"), len(stalled) - refused)
        assert handled.get((method, "OK")) == 1  # only the first batch, the one that was read
        for s in stalled:  # each stalled connection is told to go away, then closed by the server
            while h2raw.read_frame(s) is not None:
                pass
            s.close()
        assert time.monotonic() - t0 < 10
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/y"), timeout=5)
                break
            except grpc.RpcError as exc:
                assert exc.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)
                time.sleep(0.1)
        else:
            raise AssertionError("the pending-answer budget was not released")


# --------------------------------------------------------------------------------------------------
# 6. Explain lists a bounded number of non-matching keys and counts them all


def test_explain_caps_the_rejected_keys(sources: Sources, sock_path: Path) -> None:
    auths = {f"other{i}.example.com": {"auth": _b64("u", CANARY_PW)} for i in range(300)}
    auths["reg.example.com"] = {"auth": _b64("alice", CANARY_PW)}
    write_json_atomic(sources.docker, {"auths": auths})
    with running_server(make_options(sources.config), f"unix://{sock_path}", watch_interval=0) as r:
        resp = r.stub.Explain(pb.ExplainRequest(image="reg.example.com/a"), timeout=10)
        assert [c.username for c in resp.credentials] == ["alice"]
        assert len(resp.rejected) == MAX_EXPLAIN_REJECTED
        assert resp.rejected_total == 301  # 300 others and the other source's other.example.com:5000
        assert CANARY_PW not in str(resp)


# --------------------------------------------------------------------------------------------------
# 7. Limits fit together: a batch that cannot fit the message limit fails early; details are bounded


def test_batch_that_cannot_fit_is_refused_up_front(sources: Sources, sock_path: Path) -> None:
    opts = make_options(sources.config)
    slow = _Slow(opts, 0.0)
    with running_server(opts, f"unix://{sock_path}", resolver=slow, watch_interval=0, max_message_size=MiB) as r:
        images = [f"reg.example.com/{'p' * 200}{i}" for i in range(3000)]  # ~620 KB asked, > 1 MiB to answer
        with pytest.raises(grpc.RpcError) as err:
            r.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=images), timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "--max-message-size" in (err.value.details() or "")
        assert slow.calls == 0  # refused before any lookup


def test_batch_answer_outgrowing_the_limit_fails_as_it_does(sources: Sources, sock_path: Path) -> None:
    write_json_atomic(sources.docker, {"auths": {"reg.example.com": {"username": "u", "password": "p" * 2000}}})
    opts = make_options(sources.config)
    slow = _Slow(opts, 0.0)
    with running_server(opts, f"unix://{sock_path}", resolver=slow, watch_interval=0) as r:
        images = [f"reg.example.com/a{i}" for i in range(10_000)]  # ~2 KB answers: ~20 MB > 4 MiB
        with pytest.raises(grpc.RpcError) as err:
            r.stub.BatchGetCredentials(pb.BatchGetCredentialsRequest(images=images), timeout=20)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "--max-message-size" in (err.value.details() or "")
        assert slow.calls <= 3 * 1024  # stopped at the slice that outgrew 4 MiB, not after all 10,000


def test_error_details_never_quote_a_whole_input(sources: Sources, sock_path: Path) -> None:
    with running_server(make_options(sources.config), f"unix://{sock_path}", watch_interval=0) as r:
        with pytest.raises(grpc.RpcError) as err:
            r.stub.GetCredentials(pb.GetCredentialsRequest(image="B" * (3 * MiB)), timeout=20)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert len(err.value.details() or "") <= MAX_ERROR_DETAILS + 64
        trailers: Any = err.value.trailing_metadata() or ()
        assert dict(trailers).get(REASON_KEY)


# --------------------------------------------------------------------------------------------------
# 10. Malformed protobuf: INVALID_ARGUMENT with a fixed message, for every unary method


@pytest.mark.parametrize(
    "method",
    [
        f"{SERVICE}/GetCredentials",
        f"{SERVICE}/Explain",
        f"{SERVICE}/ParseReference",
        f"{SERVICE}/Reload",
        "grpc.health.v1.Health/Check",
    ],
)
def test_malformed_request_is_invalid_argument(unix_server: Running, method: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        call_raw(unix_server.channel, method, b"\xff\xff\xff\xff")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == MALFORMED_MESSAGE


@pytest.fixture
def unix_server(sources: Sources, sock_path: Path) -> Iterator[Running]:
    with running_server(make_options(sources.config), f"unix://{sock_path}", watch_interval=0) as r:
        yield r


# --------------------------------------------------------------------------------------------------
# 11. Reloads: every warning logged, the config file watched, a source that stops parsing keeps the last good


@pytest.fixture
def pullkey_records() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign,assignment]
    log = logging.getLogger("pullkey")
    old_level = log.level
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    yield records
    log.removeHandler(handler)
    log.setLevel(old_level)


def _user(r: Running) -> str:
    return str(
        r.stub.GetCredentials(pb.GetCredentialsRequest(image="reg.example.com/a"), timeout=5).credentials[0].username
    )


def _until(check: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_half_written_source_keeps_the_last_good_state(
    sources: Sources, sock_path: Path, pullkey_records: list[logging.LogRecord]
) -> None:
    with running_server(make_options(sources.config), f"unix://{sock_path}", watch_interval=0.05) as r:
        assert _user(r) == "alice"
        sources.docker.write_text('{"auths": {"reg.example.com": {"auth": "')  # half-written
        _until(lambda: any(rec.getMessage() == "reload failed, keeping the last good state" for rec in pullkey_records))
        failed = next(rec for rec in pullkey_records if rec.getMessage().startswith("reload failed"))
        assert str(sources.docker) in str(failed.fields)  # type: ignore[attr-defined]
        assert _user(r) == "alice"  # still served, not "no credentials"
        sources.write_docker("dave", CANARY_PW)
        _until(lambda: _user(r) == "dave")
    assert not any(CANARY_PW in str(getattr(rec, "fields", "")) for rec in pullkey_records)


def test_reload_warnings_are_logged(
    sources: Sources, sock_path: Path, pullkey_records: list[logging.LogRecord]
) -> None:
    cfg = json.loads(sources.config.read_text())
    cfg["sources"].append({"type": "DockerConfig", "path": str(sources.dir / "missing.json")})
    write_json_atomic(sources.config, cfg)
    with running_server(make_options(sources.config), f"unix://{sock_path}", watch_interval=0):
        warnings = [str(rec.fields) for rec in pullkey_records if rec.getMessage() == "source warning"]  # type: ignore[attr-defined]
        assert any("missing.json" in w for w in warnings), warnings


def test_config_file_itself_is_watched(sources: Sources, sock_path: Path) -> None:
    with running_server(make_options(sources.config), f"unix://{sock_path}", watch_interval=0.05) as r:
        assert _user(r) == "alice"
        other = sources.dir / "other.json"
        write_json_atomic(other, {"auths": {"reg.example.com": {"username": "erin", "password": "x"}}})
        cfg = json.loads(sources.config.read_text())
        cfg["sources"] = [{"type": "DockerConfig", "path": str(other)}]
        write_json_atomic(sources.config, cfg)
        _until(lambda: _user(r) == "erin")


# --------------------------------------------------------------------------------------------------
# 14. TLS without client authentication is an explicit, loudly logged choice


def test_tls_without_client_ca_needs_the_explicit_flag(sources: Sources, pki: Pki) -> None:
    args = ("--listen", "tcp://127.0.0.1:0", "--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key))
    flags = ("--config", str(sources.config))
    proc = subprocess.run(serve_cmd(*args, global_flags=flags), env=_env(), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "--allow-unauthenticated-clients" in proc.stderr and "--tls-client-ca" in proc.stderr
    cmd = serve_cmd(*args, "--allow-unauthenticated-clients", global_flags=flags)
    daemon_proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        assert daemon_proc.stderr is not None
        while not any(" serving" in ln for ln in lines):
            line = daemon_proc.stderr.readline()
            assert line, lines
            lines.append(line)
        assert any("WARNING" in ln and "UNAUTHENTICATED" in ln for ln in lines), lines
    finally:
        daemon_proc.send_signal(signal.SIGTERM)
        daemon_proc.communicate(timeout=15)
    assert (
        "--allow-unauthenticated-clients"
        in subprocess.run(serve_cmd("--help"), env=_env(), capture_output=True, text=True, timeout=30).stdout
    )


# --------------------------------------------------------------------------------------------------
# 15. serve's start-up failures are one line and a non-zero exit


def _one_line_failure(sources: Sources, listen: str, *extra: str) -> str:
    proc = subprocess.run(
        serve_cmd("--listen", listen, *extra, global_flags=("--config", str(sources.config))),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "Event loop is closed" not in proc.stderr
    return lines[0]


def test_port_in_use_is_one_line(sources: Sources) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        line = _one_line_failure(sources, f"tcp://127.0.0.1:{busy.getsockname()[1]}", "--insecure")
    assert "cannot listen on 127.0.0.1:" in line


def test_socket_path_too_long_is_one_line(sources: Sources) -> None:
    line = _one_line_failure(sources, "unix:///tmp/" + "d" * 120 + "/x.sock")
    assert "limited to 107" in line


def test_unusable_socket_directory_is_one_line(sources: Sources, sock_path: Path) -> None:
    sock_path.parent.parent.mkdir(parents=True)
    sock_path.parent.write_text("a file where the directory should be")
    line = _one_line_failure(sources, f"unix://{sock_path}")
    assert "not a directory" in line


# --------------------------------------------------------------------------------------------------
# 18. Connections are capped, the fd limit raised, concurrent reloads coalesced


class _CountingLoads(service.Resolver):
    def __init__(self, options: service.Options) -> None:
        super().__init__(options)
        self.loads = 0

    def load(self, accept: Callable[[State, State], str | None] | None = None) -> None:
        self.loads += 1
        time.sleep(0.3)
        super().load(accept)


def test_concurrent_reloads_are_coalesced(sources: Sources, sock_path: Path) -> None:
    opts = make_options(sources.config)
    resolver = _CountingLoads(opts)
    with running_server(opts, f"unix://{sock_path}", resolver=resolver, watch_interval=0) as r:
        assert resolver.loads == 1
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda _: r.stub.Reload(pb.ReloadRequest(), timeout=30), range(20)))
        assert all(a.loaded for a in answers)
        assert resolver.loads <= 3  # the first load, the reload running, and one shared by every caller after it
        assert time.monotonic() - t0 < 3  # 20 queued reloads would take 6 s


def test_connections_are_capped_and_fd_limit_raised(sources: Sources) -> None:
    with daemon("--max-connections", "8", sources=sources) as (proc, ch):
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
        soft, hard = next(ln.split()[3:5] for ln in limits.splitlines() if ln.startswith("Max open files"))
        assert soft == hard
        target = ch._channel.target().decode()  # type: ignore[attr-defined]
        path = target.removeprefix("unix://")
        before = len(os.listdir(f"/proc/{proc.pid}/fd"))
        idle = []
        for _ in range(60):
            s = socket.socket(socket.AF_UNIX)
            idle.append(s)
            try:
                s.connect(path)
                s.sendall(h2raw.PREFACE + h2raw.frame(h2raw.SETTINGS, 0, 0))
            except (BrokenPipeError, ConnectionResetError):
                pass  # a connection over the cap, closed by the server as soon as it was accepted
        deadline = time.monotonic() + 10  # connections over the cap are closed as soon as gRPC accepts them
        while (held := len(os.listdir(f"/proc/{proc.pid}/fd")) - before) > 8 + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        held = len(os.listdir(f"/proc/{proc.pid}/fd")) - before
        for s in idle:
            s.close()
        assert held <= 8 + 2, held  # the old daemon held all 60


# --------------------------------------------------------------------------------------------------
# The Unix socket's callers: SO_PEERCRED against --allow-uid / --allow-gid

NOBODY = 65534
SHARED_GID = 54321


def _as_user(path: Path, *, uid: int, gid: int, extra_groups: tuple[int, ...] = ()) -> str:
    """GetCredentials over ``path`` from a process of ``uid``/``gid`` (system python3: stdlib only)."""
    proc = subprocess.run(
        ["python3", "-I", str(Path(__file__).parent / "h2raw.py"), str(path), "reg.example.com/a"],
        user=uid,
        group=gid,
        extra_groups=list(extra_groups),
        capture_output=True,
        text=True,
        timeout=30,
        cwd="/",
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run callers as other users")
def test_peer_credentials_admit_only_allowed_callers(
    sources: Sources, sock_path: Path, pullkey_records: list[logging.LogRecord]
) -> None:
    opts = make_options(sources.config)
    with running_server(opts, f"unix://{sock_path}", watch_interval=0, allow_gids=[SHARED_GID]) as r:
        st = os.lstat(sock_path)
        assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == SHARED_GID
        assert stat.S_IMODE(os.lstat(sock_path.parent).st_mode) == 0o711
        assert r.health() == health_pb2.HealthCheckResponse.SERVING  # root, through the gate
        assert _as_user(sock_path, uid=NOBODY, gid=SHARED_GID).startswith("ANSWER ")  # primary group
        answer = _as_user(sock_path, uid=NOBODY, gid=NOBODY, extra_groups=(SHARED_GID,))  # supplementary group
        assert answer.startswith("ANSWER ")
        assert b"alice" in bytes.fromhex(answer.split()[1])
        os.chmod(sock_path, 0o666)  # even with the mode opened up, the kernel's credentials decide
        assert _as_user(sock_path, uid=NOBODY, gid=NOBODY) == "CLOSED"
        refusals = [rec for rec in pullkey_records if rec.getMessage().startswith("refused a caller")]
        assert refusals and refusals[-1].fields["uid"] == NOBODY  # type: ignore[attr-defined]
    with running_server(opts, f"unix://{sock_path}", watch_interval=0, allow_uids=[NOBODY]):
        assert stat.S_IMODE(os.lstat(sock_path).st_mode) == 0o666
        assert _as_user(sock_path, uid=NOBODY, gid=NOBODY).startswith("ANSWER ")
        assert _as_user(sock_path, uid=NOBODY + 1, gid=NOBODY + 1) == "CLOSED"
