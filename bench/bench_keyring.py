"""Keyring lookup latency from Python: pullkey's indexed keyring vs the kubelet's linear scan.

At 10, 1,000, 10,000 and 100,000 entries (exact hosts, hosts with ports, path-scoped keys, globs, a
Docker Hub key and its fallback), built once with ``pullkey.Keyring.from_docker_config({"auths": ...})``;
images are normalised repositories (what the kubelet passes to Lookup): ~80% hits on the keys' hosts,
~20% misses. Peer: ``peers/kubelet_scan.py`` (faithful port of keyring.go, re-parses both URLs per key,
as URLsMatchStr does); context peer: the same scan with keys parsed once.

Budgets (`docs/architecture.md`): ≤ 2 µs at 10,000 entries; 100,000 entries within 2x of 10 entries;
≥ 100x the linear scan at 10,000 entries.
"""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from _harness import Row, calibrate, probe, pullkey_api, repeat_loop, time_loops
from peers import kubelet_scan as ks

SUITE = "keyring"
SIZES = (10, 1_000, 10_000, 100_000)
SCAN_LABEL = "kubelet linear scan (`peers/kubelet_scan.py`, URLsMatchStr per key)"
PREPARSED_LABEL = "linear scan, keys pre-parsed (`PreparsedScanKeyring`)"


def _entries(config: dict) -> dict[str, tuple[str, str]]:
    """Decode `auth` the way the kubelet does for these inputs (docs/kubelet.md §b.1)."""
    out = {}
    for key, entry in config["auths"].items():
        user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        out[key] = (user, password)
    return out


def _lookups(fn: Callable[[str], Any], imgs: list[str]) -> Callable[[], None]:
    def loop() -> None:
        for image in imgs:
            fn(image)

    return loop


def _agreement(pk_keyring: Any, scan: ks.BasicDockerKeyring, imgs: list[str]) -> tuple[int, list[str]]:
    """How many images get the same (key, username) list, in the same order, from both."""
    same, differ = 0, []
    for image in imgs:
        a = [(c.key, c.username) for c in pk_keyring.lookup(image)]
        b = [(c.key, c.username) for c in scan.lookup(image)]
        if a == b:
            same += 1
        else:
            differ.append(image)
    return same, differ


def run(quick: bool = False) -> list[Row]:
    pk = pullkey_api()
    broken = ""
    if pk is not None:
        sample = corpus.docker_config(corpus.keyring_keys(10))
        broken = probe(lambda: pk.Keyring.from_docker_config(sample).lookup("docker.io/library/busybox"))
        if broken:
            pk = None
    repeats = 5 if quick else 9
    target = 0.03 if quick else 0.1
    rows: list[Row] = []
    pk_times: dict[int, float] = {}
    scaling_loops: dict[str, tuple[Callable[[], object], int]] = {}
    for size in SIZES:
        keys = corpus.keyring_keys(size)
        config = corpus.docker_config(keys)
        entries = _entries(config)
        imgs = corpus.images(keys, 200 if quick else 1_000)
        notes = [f"pullkey not measured ({broken})"] if broken else []

        scan = ks.BasicDockerKeyring()
        t0 = time.perf_counter()
        scan.add(entries)
        notes.append(f"scan build {time.perf_counter() - t0:.2f} s")
        pre = ks.PreparsedScanKeyring()
        pre.add(entries)

        loops: dict[str, tuple[Callable[[], object], int]] = {}
        pk_keyring = None
        if pk is not None:
            t0 = time.perf_counter()
            pk_keyring = pk.Keyring.from_docker_config(config)
            notes.append(f"pullkey build {time.perf_counter() - t0:.3f} s ({len(pk_keyring)} credentials)")
            loop = _lookups(pk_keyring.lookup, imgs)
            times = calibrate(loop, target_s=target)
            loops["pullkey"] = (repeat_loop(loop, times), len(imgs) * times)
            scaling_loops[str(size)] = loops["pullkey"]

        # The scans cost O(entries) per lookup: sample fewer images at the large sizes.
        per_scan_lookup = {10: 1000, 1_000: 200, 10_000: 20, 100_000: 3}[size]
        if quick:
            per_scan_lookup = max(1, per_scan_lookup // 5)
        scan_imgs = imgs[:per_scan_lookup]
        scan_repeats = repeats if size <= 10_000 else (2 if quick else 3)
        loops["scan"] = (_lookups(scan.lookup, scan_imgs), len(scan_imgs))
        pre_imgs = imgs[: per_scan_lookup * 3]
        loops["pre"] = (_lookups(pre.lookup, pre_imgs), len(pre_imgs))
        med = time_loops(loops, repeats=scan_repeats, warmup=1 if size < 100_000 else 0)
        pk_t = med.get("pullkey")
        if pk_t is not None:
            pk_times[size] = pk_t
            same, differ = _agreement(pk_keyring, scan, scan_imgs)
            notes.append(
                f"pullkey vs scan: {same}/{len(scan_imgs)} images same credentials in same order"
                + (f"; differ e.g. {differ[:3]!r}" if differ else "")
            )
        if size == 10_000:
            budget = "≥ 100× the scan"
            check = None if pk_t is None else bool(med["scan"] / pk_t >= 100)
        else:
            budget, check = "context", None
        n_label = f"{size:,} entries; {len(imgs)} images (scan: {len(scan_imgs)})"
        rows.append(
            Row(
                SUITE,
                f"`Keyring.lookup` at {size:,} entries",
                n_label,
                "ns",
                pk_t,
                SCAN_LABEL,
                med["scan"],
                budget,
                check,
                note="; ".join(notes),
            )
        )
        rows.append(
            Row(
                SUITE,
                f"`Keyring.lookup` at {size:,} entries",
                f"{size:,} entries; {len(pre_imgs)} images",
                "ns",
                pk_t,
                PREPARSED_LABEL,
                med["pre"],
            )
        )
    # Scaling: pullkey alone at every size, interleaved in one measurement (the per-size rows above
    # were taken minutes apart, next to scans of very different cost; load drifts in between).
    t100k = t10 = None
    if scaling_loops:
        scaled = time_loops(scaling_loops, repeats=repeats * 2)
        t100k, t10, t10k = scaled.get(str(100_000)), scaled.get(str(10)), scaled.get(str(10_000))
        rows.append(
            Row(
                SUITE,
                "`Keyring.lookup` at 10,000 entries (pullkey alone)",
                "all sizes interleaved in one measurement; same hit/miss mix",
                "ns",
                t10k,
                "pullkey at 10 entries",
                t10,
                "≤ 2 µs",
                None if t10k is None else bool(t10k <= 2000),
            )
        )
        rows.append(
            Row(
                SUITE,
                "`Keyring.lookup` scaling: 100,000 vs 10 entries",
                "all sizes interleaved in one measurement; same hit/miss mix",
                "ns",
                t100k,
                "pullkey at 10 entries",
                t10,
                "100,000 within 2× of 10",
                None if t100k is None or t10 is None else bool(t100k <= 2 * t10),
                note="pullkey per lookup by size: " + ", ".join(f"{int(k):,}: {v:.0f} ns" for k, v in scaled.items()),
            )
        )
    else:
        rows.append(
            Row(
                SUITE,
                "`Keyring.lookup` scaling: 100,000 vs 10 entries",
                "all sizes interleaved; same hit/miss mix",
                "ns",
                None,
                "pullkey at 10 entries",
                None,
                "100,000 within 2× of 10",
                None,
            )
        )
        rows.insert(
            -1,
            Row(SUITE, "`Keyring.lookup` at 10,000 entries (pullkey alone)", "", "ns", None, "", None, "≤ 2 µs", None),
        )
    return rows


if __name__ == "__main__":
    from _harness import table

    result = run(quick="--quick" in sys.argv)
    print(table(result))
    for r in result:
        if r.note:
            print(f"{r.what}: {r.note}")
