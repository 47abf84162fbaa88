"""Load and soak test of ``pullkey serve`` on a loopback Unix socket (issue #10).

Starts the installed ``pullkey serve`` on a generated configuration (``--entries`` registry keys in
one docker config plus a small "hot" config that is rewritten all the time) and, for ``--duration``
seconds, drives:

- mixed traffic from ``--workers`` threads: unary ``GetCredentials`` (70 %), ``BatchGetCredentials``
  of 20 images (20 %), ``Explain`` (10 %); a few requests carry an invalid image on purpose (they
  must get INVALID_ARGUMENT, and are not counted as valid requests);
- ``Reload`` RPCs every 0.5 s (every 5 s a burst of 4 at once) and SIGHUPs every second, concurrently;
- the hot config rewritten every 0.7 s, alternately atomically (write + rename) and half-written
  (truncate, write half, pause 0.2 s, write the rest, as a non-atomic writer would); the big config
  rewritten atomically (same content) about every 10 s;
- ``--slow-clients`` raw HTTP/2 connections that each send a 500-image batch and never read
  (their flow-control window is 0), opened over the first half of the run.

Every answer to a valid request is checked: a key of the big config must come back with exactly its
user; a hot key with the user of either generation (an answer from the old or the new state is
valid); an unknown registry with no credentials. Anything else — a gRPC error, a wrong or missing
credential — is a failed call.

Criteria (exit status 1 when one fails): zero failed valid calls; every Reload RPC answered;
daemon RSS at the end (traffic stopped, slow clients gone, 2 s settle) within ``--rss-tolerance``
of the RSS after warm-up; the peak RSS during the run within ``--rss-peak-tolerance`` of it.
Passwords are generated fakes and are never printed.

Usage: python bench/soak.py [--duration 60] [--entries 10000] [--json FILE]   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import json
import os
import random
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
from pullkey.v1 import credential_pb2 as pb
from pullkey.v1 import credential_pb2_grpc as pb_grpc

HOT_KEYS = 100
BATCH_SIZE = 20
SLOW_BATCH_SIZE = 500
CALL_TIMEOUT = 10.0
MIB = 1024 * 1024


# ------------------------------------------------------------------------------------------------
# The generated sources


def _entry(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def big_image(i: int) -> str:
    return f"reg{i}.soak.test/team{i % 7}/app:v1"


def hot_image(j: int) -> str:
    return f"hot{j}.soak.test/svc/app"


def write_sources(root: Path, entries: int) -> Path:
    """The big config, the first generation of the hot one, and the ProviderConfig naming both."""
    big = {
        "auths": {f"reg{i}.soak.test/team{i % 7}": _entry(f"big-user-{i}", f"soak-pass-{i}") for i in range(entries)}
    }
    (root / "big.json").write_text(json.dumps(big))
    (root / "hot.json").write_bytes(hot_config("a"))
    config = root / "pullkey.yaml"
    config.write_text(
        "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n"
        f"rootDir: {root / 'no-kubelet-root'}\n"
        "sources:\n"
        f"  - type: DockerConfig\n    path: {root / 'big.json'}\n"
        f"  - type: DockerConfig\n    path: {root / 'hot.json'}\n"
    )
    return config


def hot_config(generation: str) -> bytes:
    auths = {
        f"hot{j}.soak.test": _entry(f"hot-{generation}-{j}", f"hot-pass-{generation}-{j}") for j in range(HOT_KEYS)
    }
    return json.dumps({"auths": auths}, indent=1).encode()


# ------------------------------------------------------------------------------------------------
# Checking answers


@dataclasses.dataclass(frozen=True)
class Probe:
    """An image and what a valid answer holds: the allowed usernames (empty: no credential) or an error."""

    image: str
    users: frozenset[str]
    invalid: bool = False


def make_probe(rng: random.Random, entries: int, serial: int) -> Probe:
    r = rng.random()
    if r < 0.6:
        i = rng.randrange(entries)
        return Probe(big_image(i), frozenset({f"big-user-{i}"}))
    if r < 0.9:
        j = rng.randrange(HOT_KEYS)
        return Probe(hot_image(j), frozenset({f"hot-a-{j}", f"hot-b-{j}"}))
    if r < 0.99:
        return Probe(f"nomatch{rng.randrange(1000)}.soak.test/x", frozenset())
    # Invalid on purpose (uppercase repository), distinct each time: INVALID_ARGUMENT expected.
    return Probe(f"soak.test/Invalid{serial}", frozenset(), invalid=True)


def check_users(probe: Probe, users: list[str]) -> str | None:
    """Why `users` is not a valid answer for `probe` (None: it is)."""
    if not probe.users:
        return None if not users else f"{probe.image}: expected no credential, got {len(users)}"
    if len(users) != 1:
        return f"{probe.image}: expected 1 credential, got {len(users)}"
    if users[0] not in probe.users:
        return f"{probe.image}: unexpected user {users[0]!r}"
    return None


# ------------------------------------------------------------------------------------------------
# Results


@dataclasses.dataclass
class Tally:
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    calls: dict[str, int] = dataclasses.field(default_factory=dict)
    failed: dict[str, int] = dataclasses.field(default_factory=dict)
    expected_errors: int = 0
    failure_examples: list[str] = dataclasses.field(default_factory=list)

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.calls[kind] = self.calls.get(kind, 0) + 1
            self.latencies.setdefault(kind, []).append(seconds)

    def fail(self, kind: str, why: str) -> None:
        with self.lock:
            self.calls[kind] = self.calls.get(kind, 0) + 1
            self.failed[kind] = self.failed.get(kind, 0) + 1
            if len(self.failure_examples) < 20:
                self.failure_examples.append(f"{kind}: {why}")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ------------------------------------------------------------------------------------------------
# The daemon


def find_pullkey() -> str:
    """The `pullkey` executable of this environment (next to the interpreter), else from PATH."""
    beside = Path(sys.executable).parent / "pullkey"
    if beside.exists():
        return str(beside)
    found = shutil.which("pullkey")
    if not found:
        sys.exit("soak: no `pullkey` executable found (make install)")
    return found


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def daemon(exe: str, config: Path, sock: Path, log: Path, extra: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    cmd = [exe, "serve", "--listen", f"unix://{sock}", "--config", str(config), "--watch-interval", "0.2", *extra]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_ready(stub: pb_grpc.CredentialServiceStub, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pullkey serve exited with {proc.returncode} before serving")
        with contextlib.suppress(grpc.RpcError):
            if stub.GetCredentials(pb.GetCredentialsRequest(image=big_image(0)), timeout=2).credentials:
                return
        time.sleep(0.1)
    raise RuntimeError("pullkey serve did not answer in time")


# ------------------------------------------------------------------------------------------------
# Slow clients: HTTP/2 by hand, so that the client can decline to read


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def _hpack_literal(name: str, value: str) -> bytes:
    """A literal header field without indexing, new name, no Huffman (RFC 7541 §6.2.2); short strings."""
    n, v = name.encode(), value.encode()
    assert len(n) < 127 and len(v) < 127
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def open_slow_client(sock: Path, images: list[str]) -> socket.socket:
    """Sends one BatchGetCredentials with an initial window of 0, then never reads."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(str(sock))
    headers = b"".join(
        _hpack_literal(k, v)
        for k, v in [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/pullkey.v1.CredentialService/BatchGetCredentials"),
            (":authority", "localhost"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]
    )
    body = pb.BatchGetCredentialsRequest(images=images).SerializeToString()
    message = b"\x00" + struct.pack(">I", len(body)) + body
    s.sendall(
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        + _frame(0x4, 0, 0, struct.pack(">HI", 0x4, 0))  # SETTINGS_INITIAL_WINDOW_SIZE = 0
        + _frame(0x1, 0x4, 1, headers)  # HEADERS, END_HEADERS
        + _frame(0x0, 0x1, 1, message)  # DATA, END_STREAM
    )
    return s


# ------------------------------------------------------------------------------------------------
# The run


@dataclasses.dataclass
class Options:
    duration: float = 60.0
    entries: int = 10_000
    workers: int = 6
    slow_clients: int = 16
    warmup: float = 0.0  # 0: 10 % of the duration, at least 3 s
    rss_tolerance: float = 0.20
    rss_tolerance_mib: float = 16.0
    rss_peak_tolerance_mib: float = 128.0
    seed: int = 10
    serve_args: tuple[str, ...] = ()
    keep: bool = False
    log: Callable[[str], None] = print


def run(opts: Options) -> dict[str, Any]:
    """One soak run; returns the figures and the verdict of every criterion."""
    warmup = opts.warmup or max(3.0, 0.1 * opts.duration)
    tmp = Path(tempfile.mkdtemp(prefix="pullkey-soak-"))
    try:
        return _run(opts, tmp, warmup)
    finally:
        if not opts.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _run(opts: Options, tmp: Path, warmup: float) -> dict[str, Any]:
    config = write_sources(tmp, opts.entries)
    sock, log_path = tmp / "pullkey.sock", tmp / "daemon.log"
    tally = Tally()
    stop = threading.Event()
    counters = {
        "reload_rpcs": 0,
        "reload_rpc_errors": 0,
        "reload_not_loaded": 0,
        "sighups": 0,
        "rewrites": 0,
        "half_writes": 0,
    }
    counters_lock = threading.Lock()

    def bump(name: str) -> None:
        with counters_lock:
            counters[name] += 1

    with daemon(find_pullkey(), config, sock, log_path, list(opts.serve_args)) as proc:
        target = f"unix://{sock}"
        channels = [grpc.insecure_channel(target) for _ in range(2)]
        control = grpc.insecure_channel(target)
        try:
            load_started = time.monotonic()
            wait_ready(pb_grpc.CredentialServiceStub(control), proc, timeout=120)
            load_seconds = time.monotonic() - load_started
            rss_idle = rss_bytes(proc.pid)
            opts.log(f"soak: {opts.entries:,} entries loaded in {load_seconds:.1f} s, RSS {rss_idle / MIB:.0f} MiB")

            def worker(n: int) -> None:
                rng = random.Random(opts.seed * 1000 + n)
                stub = pb_grpc.CredentialServiceStub(channels[n % len(channels)])
                serial = n * 10_000_000
                while not stop.is_set():
                    serial += 1
                    r = rng.random()
                    if r < 0.7:
                        one_unary(stub, make_probe(rng, opts.entries, serial))
                    elif r < 0.9:
                        one_batch(stub, [make_probe(rng, opts.entries, serial + k) for k in range(BATCH_SIZE)])
                    else:
                        one_explain(stub, make_probe(rng, opts.entries, serial))

            def one_unary(stub: pb_grpc.CredentialServiceStub, probe: Probe) -> None:
                t0 = time.perf_counter()
                try:
                    resp = stub.GetCredentials(pb.GetCredentialsRequest(image=probe.image), timeout=CALL_TIMEOUT)
                except grpc.RpcError as e:
                    if probe.invalid and e.code() == grpc.StatusCode.INVALID_ARGUMENT:
                        with tally.lock:
                            tally.expected_errors += 1
                        return
                    tally.fail("unary", f"{probe.image}: {e.code().name}")
                    return
                why = (
                    "invalid image answered"
                    if probe.invalid
                    else check_users(probe, [c.username for c in resp.credentials])
                )
                if why:
                    tally.fail("unary", why)
                else:
                    tally.ok("unary", time.perf_counter() - t0)

            def one_batch(stub: pb_grpc.CredentialServiceStub, probes: list[Probe]) -> None:
                t0 = time.perf_counter()
                try:
                    resp = stub.BatchGetCredentials(
                        pb.BatchGetCredentialsRequest(images=[p.image for p in probes]), timeout=CALL_TIMEOUT
                    )
                except grpc.RpcError as e:
                    tally.fail("batch", f"{e.code().name}")
                    return
                if len(resp.results) != len(probes):
                    tally.fail("batch", f"{len(resp.results)} results for {len(probes)} images")
                    return
                for probe, result in zip(probes, resp.results, strict=True):
                    if probe.invalid:
                        why = None if result.WhichOneof("result") == "error" else "invalid image answered"
                        with tally.lock:
                            tally.expected_errors += 1
                    elif result.WhichOneof("result") != "response":
                        why = f"{probe.image}: item error {result.error.code}"
                    else:
                        why = check_users(probe, [c.username for c in result.response.credentials])
                    if why:
                        tally.fail("batch", why)
                        return
                tally.ok("batch", time.perf_counter() - t0)

            def one_explain(stub: pb_grpc.CredentialServiceStub, probe: Probe) -> None:
                t0 = time.perf_counter()
                try:
                    resp = stub.Explain(pb.ExplainRequest(image=probe.image), timeout=CALL_TIMEOUT)
                except grpc.RpcError as e:
                    if probe.invalid and e.code() == grpc.StatusCode.INVALID_ARGUMENT:
                        with tally.lock:
                            tally.expected_errors += 1
                        return
                    tally.fail("explain", f"{probe.image}: {e.code().name}")
                    return
                why = (
                    "invalid image answered"
                    if probe.invalid
                    else check_users(probe, [c.username for c in resp.credentials])
                )
                if why:
                    tally.fail("explain", why)
                else:
                    tally.ok("explain", time.perf_counter() - t0)

            def reload_once() -> None:
                t0 = time.perf_counter()
                try:
                    resp = pb_grpc.CredentialServiceStub(control).Reload(pb.ReloadRequest(), timeout=30)
                    tally.ok("reload", time.perf_counter() - t0)
                    bump("reload_rpcs")
                    if not resp.loaded:
                        bump("reload_not_loaded")
                except grpc.RpcError as e:
                    bump("reload_rpcs")
                    bump("reload_rpc_errors")
                    tally.fail("reload", e.code().name)

            def reloader() -> None:
                n = 0
                while not stop.wait(0.5):
                    n += 1
                    if n % 10:
                        reload_once()
                        continue
                    # Every 5 s a burst of 4 concurrent Reload calls (queued reloads, defect 18).
                    burst = [threading.Thread(target=reload_once) for _ in range(4)]
                    for t in burst:
                        t.start()
                    for t in burst:
                        t.join()

            def sighupper() -> None:
                while not stop.wait(1.0):
                    os.kill(proc.pid, signal.SIGHUP)
                    bump("sighups")

            def rewriter() -> None:
                hot, big, n = tmp / "hot.json", tmp / "big.json", 0
                while not stop.wait(0.7):
                    n += 1
                    if n % 15 == 0:  # about every 10 s the big file too, atomically, same content
                        part = tmp / "big.json.tmp"
                        part.write_bytes(big.read_bytes())
                        part.replace(big)
                        bump("rewrites")
                    data = hot_config("ab"[n % 2])
                    if n % 2:
                        part = tmp / "hot.json.tmp"
                        part.write_bytes(data)
                        part.replace(hot)
                    else:
                        with hot.open("wb") as f:  # a non-atomic writer: truncate, half, pause, rest
                            f.write(data[: len(data) // 2])
                            f.flush()
                            time.sleep(0.2)
                            f.write(data[len(data) // 2 :])
                        bump("half_writes")
                    bump("rewrites")

            slow: list[socket.socket] = []

            def slow_opener() -> None:
                rng = random.Random(opts.seed)
                for k in range(opts.slow_clients):
                    if stop.wait(opts.duration / 2 / max(1, opts.slow_clients)):
                        return
                    images = [big_image(rng.randrange(opts.entries)) for _ in range(SLOW_BATCH_SIZE)]
                    with contextlib.suppress(OSError):
                        slow.append(open_slow_client(sock, images))
                    del k

            rss_samples: list[int] = []

            def sampler() -> None:
                while not stop.wait(0.5):
                    with contextlib.suppress(OSError, ValueError):
                        rss_samples.append(rss_bytes(proc.pid))

            # Warm-up: plain traffic only (the answer cache and allocator reach their working size).
            threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(opts.workers)]
            for t in threads:
                t.start()
            time.sleep(warmup)
            rss_start = rss_bytes(proc.pid)
            with tally.lock:  # the figures count the soak proper only
                tally.latencies.clear()
                tally.calls.clear()
                tally.failed.clear()
                tally.failure_examples.clear()
                tally.expected_errors = 0
            opts.log(f"soak: warm-up {warmup:.0f} s, RSS {rss_start / MIB:.0f} MiB; soaking for {opts.duration:.0f} s")
            chaos = [
                threading.Thread(target=f, daemon=True) for f in (reloader, sighupper, rewriter, slow_opener, sampler)
            ]
            for t in chaos:
                t.start()
            started = time.monotonic()
            time.sleep(opts.duration)
            stop.set()
            for t in threads + chaos:
                t.join(timeout=CALL_TIMEOUT + 35)
            elapsed = time.monotonic() - started
            rss_loaded = rss_bytes(proc.pid)
            for s in slow:
                s.close()
            # Settle: the rewriter may have stopped mid-way; restore a whole file and reload once.
            (tmp / "hot.json").write_bytes(hot_config("a"))
            with contextlib.suppress(grpc.RpcError):
                pb_grpc.CredentialServiceStub(control).Reload(pb.ReloadRequest(), timeout=30)
            time.sleep(2.0)
            rss_end = rss_bytes(proc.pid)
            alive = proc.poll() is None
        finally:
            for ch in [*channels, control]:
                ch.close()
        log_text = log_path.read_text(errors="replace")

    all_lat = [x for k, v in tally.latencies.items() if k != "reload" for x in v]
    total_calls = sum(v for k, v in tally.calls.items() if k != "reload")
    failed = sum(tally.failed.values())
    tolerance = max(opts.rss_tolerance * rss_start, opts.rss_tolerance_mib * MIB)
    peak = max([rss_start, rss_loaded, *rss_samples])
    criteria = {
        "zero failed valid calls": failed == 0,
        "every Reload RPC answered": counters["reload_rpc_errors"] == 0,
        "daemon alive": alive,
        f"RSS end within max({opts.rss_tolerance:.0%}, {opts.rss_tolerance_mib:.0f} MiB) of start": rss_end - rss_start
        <= tolerance,
        f"RSS peak within {opts.rss_peak_tolerance_mib:.0f} MiB of start": peak - rss_start
        <= opts.rss_peak_tolerance_mib * MIB,
    }
    per_kind = {
        kind: {
            "calls": tally.calls.get(kind, 0),
            "failed": tally.failed.get(kind, 0),
            "p50_ms": round(1000 * percentile(lat, 0.50), 2),
            "p99_ms": round(1000 * percentile(lat, 0.99), 2),
        }
        for kind, lat in sorted(tally.latencies.items())
    }
    for kind, n in tally.failed.items():
        per_kind.setdefault(kind, {"calls": tally.calls.get(kind, 0), "failed": n, "p50_ms": 0.0, "p99_ms": 0.0})
    return {
        "entries": opts.entries,
        "duration_s": round(elapsed, 1),
        "warmup_s": warmup,
        "load_s": round(load_seconds, 2),
        "workers": opts.workers,
        "slow_clients": len(slow),
        "calls": total_calls,
        "throughput_per_s": round(total_calls / elapsed, 1),
        "images_per_s": round(
            (tally.calls.get("unary", 0) + tally.calls.get("explain", 0) + BATCH_SIZE * tally.calls.get("batch", 0))
            / elapsed,
            1,
        ),
        "p50_ms": round(1000 * percentile(all_lat, 0.50), 2),
        "p99_ms": round(1000 * percentile(all_lat, 0.99), 2),
        "mean_ms": round(1000 * statistics.fmean(all_lat), 2) if all_lat else 0.0,
        "per_kind": per_kind,
        "failed": failed,
        "failure_examples": tally.failure_examples,
        "expected_errors": tally.expected_errors,
        **counters,
        "rss_idle_mib": round(rss_idle / MIB, 1),
        "rss_start_mib": round(rss_start / MIB, 1),
        "rss_peak_mib": round(peak / MIB, 1),
        "rss_loaded_end_mib": round(rss_loaded / MIB, 1),
        "rss_end_mib": round(rss_end / MIB, 1),
        "daemon_log_lines": log_text.count("\n"),
        "daemon_log_warnings": sum(
            1 for line in log_text.splitlines() if "WARNING" in line.upper() or "skipped" in line
        ),
        "criteria": criteria,
        "passed": all(criteria.values()),
    }


def report(result: dict[str, Any]) -> str:
    r = result
    lines = [
        f"pullkey soak: {r['entries']:,} entries, {r['duration_s']} s (after {r['warmup_s']:.0f} s warm-up), "
        f"{r['workers']} workers, {r['slow_clients']} slow clients",
        f"  calls {r['calls']:,} ({r['throughput_per_s']}/s, {r['images_per_s']} images/s; Reload not counted)"
        f"  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms",
    ]
    for kind, k in result["per_kind"].items():
        lines.append(
            f"    {kind:8} {k['calls']:>8,} calls  failed {k['failed']:>6,}  p50 {k['p50_ms']} ms  p99 {k['p99_ms']} ms"
        )
    lines += [
        f"  failed valid calls {r['failed']:,}; invalid requests refused as expected {r['expected_errors']:,}",
        f"  reload RPCs {r['reload_rpcs']} (errors {r['reload_rpc_errors']}, not loaded {r['reload_not_loaded']}),"
        f" SIGHUPs {result['sighups']}, rewrites {result['rewrites']} (half-written {result['half_writes']})",
        f"  RSS MiB: idle {result['rss_idle_mib']}, start {result['rss_start_mib']}, peak {result['rss_peak_mib']},"
        f" end with slow clients {result['rss_loaded_end_mib']}, end {result['rss_end_mib']}",
        f"  daemon log: {result['daemon_log_lines']} lines, {result['daemon_log_warnings']} warnings",
    ]
    lines += [f"    e.g. {x}" for x in result["failure_examples"][:5]]
    lines += [f"  [{'PASS' if ok else 'FAIL'}] {name}" for name, ok in result["criteria"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Load and soak test of pullkey serve (loopback Unix socket).")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of soak after warm-up (default 60)")
    p.add_argument("--entries", type=int, default=10_000, help="registry keys in the big config (default 10,000)")
    p.add_argument("--workers", type=int, default=6, help="client threads (default 6)")
    p.add_argument("--slow-clients", type=int, default=16, help="connections that never read (default 16)")
    p.add_argument("--warmup", type=float, default=0.0, help="seconds (default: 10%% of the duration, at least 3)")
    p.add_argument("--rss-tolerance", type=float, default=0.20, help="end-vs-start RSS growth allowed, fraction (0.20)")
    p.add_argument(
        "--rss-tolerance-mib", type=float, default=16.0, help="... or this many MiB, whichever is larger (16)"
    )
    p.add_argument("--rss-peak-tolerance-mib", type=float, default=128.0, help="peak-vs-start RSS growth allowed (128)")
    p.add_argument("--serve-arg", action="append", default=[], help="extra `pullkey serve` argument (repeatable)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (daemon log) for inspection")
    a = p.parse_args(argv)
    opts = Options(
        duration=a.duration,
        entries=a.entries,
        workers=a.workers,
        slow_clients=a.slow_clients,
        warmup=a.warmup,
        rss_tolerance=a.rss_tolerance,
        rss_tolerance_mib=a.rss_tolerance_mib,
        rss_peak_tolerance_mib=a.rss_peak_tolerance_mib,
        serve_args=tuple(a.serve_arg),
        keep=a.keep,
    )
    result = run(opts)
    print(report(result))
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
