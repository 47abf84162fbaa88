"""Source watching by polling (mtime, size, inode; no inotify dependency): reload when a watched path changes.

The watched paths are every source the resolver read (or looked for) and the pullkey config file itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pullkey.server.daemon import Daemon

log = logging.getLogger("pullkey.grpc")

#: What is compared between two polls: stat fields, plus (directory) the children's.
StatKey = tuple[object, ...] | None


def stat_key(path: str) -> StatKey:
    """What changes when ``path`` is rewritten (``None`` when it does not exist)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key: tuple[object, ...] = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)
    if stat.S_ISDIR(st.st_mode):
        # a PullSecretDir: a file rewritten in place does not touch the directory's mtime
        with contextlib.suppress(OSError), os.scandir(path) as it:
            children = []
            for n, entry in enumerate(it):
                if n >= 4096:
                    break
                with contextlib.suppress(OSError):
                    cst = entry.stat()
                    children.append((entry.name, cst.st_mtime_ns, cst.st_size, cst.st_ino))
            key += (tuple(sorted(children)),)
    return key


async def watch(daemon: Daemon, interval: float) -> None:
    """Reload ``daemon`` when one of its resolver's watched paths changes; retry a failed first load."""

    def paths() -> list[str]:
        return daemon.watched_paths()  # before a successful load: the config file only

    snapshot = {p: stat_key(p) for p in paths()}
    retry_every = max(0.5, 5 * interval)
    next_retry = time.monotonic() + retry_every
    while True:
        await asyncio.sleep(interval)
        if not daemon.loaded and time.monotonic() >= next_retry:
            # nothing loaded, so the resolver knows no path to watch: retry the load now and then
            next_retry = time.monotonic() + retry_every
            await daemon.reload("retry")
            snapshot = {p: stat_key(p) for p in paths()}
            continue
        current = {p: stat_key(p) for p in paths()}
        if current == snapshot:
            continue
        changed = sorted(p for p in set(current) | set(snapshot) if current.get(p) != snapshot.get(p))
        log.info("source changed", extra={"fields": {"paths": changed}})
        await daemon.reload("file change")
        # new baseline: the stats seen BEFORE the reload, so a write during it is caught next time;
        # paths the reload added (a new config listing new sources) start from their current stats
        snapshot = {p: current[p] if p in current else stat_key(p) for p in paths()}
