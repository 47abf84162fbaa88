"""Shared timing and reporting helpers for the pullkey benchmarks.

Method (same for every suite): a *timed loop* runs the operation over a batch of inputs; the loop is
repeated ``repeats`` times; each repeat yields a per-operation time (loop time / operations); the
reported number is the **median of the repeats**. Every peer is timed in the same process, in the
same run, with the same inputs, interleaved with pullkey (repeat i of every contender runs before
repeat i+1 of any), so background load on the shared machine hits all of them alike.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# A timed loop: takes no argument, performs `ops` operations, returns nothing.
Loop = Callable[[], object]


@dataclass
class Row:
    """One measurement: one line of the results table.

    ``pullkey``/``peer_value`` are numbers in ``unit`` (None = not measured). ``direction`` says how the
    ratio reads: "lower" = smaller is better (times, memory), so ratio = peer / pullkey = speed-up.
    ``check`` is the budget's verdict: True / False / None (context row, no budget).
    """

    suite: str
    what: str
    n: str
    unit: str
    pullkey: float | None
    peer: str
    peer_value: float | None
    budget: str = "context"
    check: bool | None = None
    note: str = ""
    check_detail: str = ""  # e.g. "≤ 1 µs: pass; ≥ 30x: fail" when a row carries two budgets
    extra: dict[str, Any] = field(default_factory=dict)

    def ratio(self) -> float | None:
        if self.pullkey is None or self.peer_value is None or self.pullkey <= 0:
            return None
        return self.peer_value / self.pullkey

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def time_loops(loops: dict[str, tuple[Loop, int]], *, repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median per-op nanoseconds for each named loop; loops are interleaved repeat by repeat.

    ``loops`` maps a name to (loop function, operations per call of the loop).
    """
    per_op: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(warmup):
        for fn, _ops in loops.values():
            fn()
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()  # a collection inside one contender's loop would be charged to it alone
    try:
        for r in range(repeats):
            names = list(loops)
            if r % 2:  # alternate the order so neither contender always runs right after the other
                names.reverse()
            for name in names:
                fn, ops = loops[name]
                t0 = time.perf_counter_ns()
                fn()
                t1 = time.perf_counter_ns()
                per_op[name].append((t1 - t0) / ops)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(v) for name, v in per_op.items()}


def calibrate(fn: Loop, *, target_s: float) -> int:
    """How many calls of ``fn`` fill about ``target_s`` seconds (at least 1)."""
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    return max(1, int(target_s / max(dt, 1e-9)))


def repeat_loop(fn: Loop, times: int) -> Loop:
    """A loop that calls ``fn`` ``times`` times (used to stretch a short loop to the target duration)."""
    if times == 1:
        return fn

    def loop() -> None:
        for _ in range(times):
            fn()

    return loop


def fmt_value(v: float | None, unit: str) -> str:
    if v is None:
        return "pending"
    if unit == "ns":
        if v < 1_000:
            return f"{v / 1000:.3f} µs"
        if v < 1_000_000:
            return f"{v / 1000:.2f} µs"
        if v < 1_000_000_000:
            return f"{v / 1e6:.2f} ms"
        return f"{v / 1e9:.2f} s"
    if unit == "ms":
        return f"{v:.2f} ms"
    if unit == "MiB":
        return f"{v:.1f} MiB"
    return f"{v:g} {unit}"


def fmt_ratio(r: float | None, unit: str = "ns") -> str:
    if r is None:
        return "—"
    if unit == "MiB":
        return f"{r:.2f}× less memory" if r >= 1 else f"{1 / r:.2f}× more memory"
    if r >= 1:
        return f"{r:,.1f}× faster" if r < 100 else f"{r:,.0f}× faster"
    return f"{1 / r:.2f}× slower"


def verdicts(*parts: tuple[str, bool]) -> tuple[bool, str]:
    """Combine several budget verdicts of one row: (all passed, "label: pass; label: fail")."""
    return all(ok for _, ok in parts), "; ".join(f"{label}: {'pass' if ok else 'fail'}" for label, ok in parts)


def fmt_check(c: bool | None) -> str:
    if c is None:
        return "—"
    return "PASS" if c else "FAIL"


HEADER = ("what", "n", "pullkey time", "peer", "peer time", "ratio", "budget", "pass/fail")


def table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(" --- " for _ in HEADER) + "|"]
    for row in rows:
        cells = (
            row.what,
            row.n,
            fmt_value(row.pullkey, row.unit),
            row.peer,
            fmt_value(row.peer_value, row.unit),
            fmt_ratio(row.ratio(), row.unit),
            row.budget,
            fmt_check(row.check) + (f" ({row.check_detail})" if row.check_detail else ""),
        )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def environment() -> dict[str, str]:
    """Where the numbers were taken (no user or secret data)."""
    env = {
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
    }
    try:
        env["load average"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        pass
    try:
        import pullkey

        env["pullkey"] = str(getattr(pullkey, "__version__", "?")) + f" ({os.path.dirname(pullkey.__file__)})"
    except Exception as exc:
        env["pullkey"] = f"not importable ({type(exc).__name__})"
    return env


def probe(fn: Callable[[], object]) -> str:
    """Run one call of a pullkey API; '' when it works, else why not (a stubbed core panics, and pyo3's
    PanicException is a BaseException, so catch that too — but never swallow Ctrl-C)."""
    try:
        fn()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    return ""


def pullkey_api() -> Any | None:
    """The ``pullkey`` module if its Python API is importable and complete enough to bench, else None."""
    try:
        import pullkey
    except Exception:
        return None
    needed = ("parse_reference", "parse_references", "Keyring")
    if not all(hasattr(pullkey, name) for name in needed):
        return None
    return pullkey
