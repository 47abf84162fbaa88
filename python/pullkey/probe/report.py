"""Reports of ``pullkey probe``: a text line per image (with each failed attempt), or one JSON object
per image, and a progress bar on a terminal. Nothing here can print a secret: results carry none."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

import orjson

from pullkey.probe.engine import Attempt, CredentialInfo, ImageResult


def json_line(result: ImageResult) -> bytes:
    """One JSON object (``image``, ``ok``, ``reason``... see :meth:`ImageResult.to_dict`), newline-ended."""
    return orjson.dumps(result.to_dict()) + b"\n"


def _who(info: CredentialInfo | None) -> str:
    if info is None:
        return "anonymous"
    user = f"user {info.username!r}" if info.username else "no username"
    return f"{info.key} ({user}, from {info.source})"


def _attempt_line(n: int, a: Attempt) -> str:
    status = f" [HTTP {a.status}]" if a.status else ""
    return f"      {n}. {_who(a.credential)}: {a.reason}: {a.detail}{status}"


def text_lines(result: ImageResult) -> list[str]:
    """The human report of one image: a status line, then the failed attempts and the origins."""
    took = f"{result.seconds:.2f}s"
    lines: list[str] = []
    if result.ok:
        digest = result.digest or "(no digest header)"
        lines.append(f"ok    {result.image}  {digest}  {took}  opened by {_who(result.credential)}")
        failed = [a for a in result.attempts if not a.ok]
    else:
        lines.append(f"FAIL  {result.image}  {result.reason}: {result.detail}  {took}")
        failed = list(result.attempts)
    if failed:
        if result.ok:
            lines.append("      tried first, in kubelet order:")
        for n, a in enumerate(failed, 1):
            lines.append(_attempt_line(n, a))
    lines.extend(f"      in {origin}" for origin in result.origins)
    return lines


def summary(results: Sequence[ImageResult]) -> str:
    bad = sum(1 for r in results if not r.ok)
    total = len(results)
    noun = "image" if total == 1 else "images"
    if not bad:
        return f"probe: {total} {noun}, all would pull"
    return f"probe: {total} {noun}, {total - bad} would pull, {bad} would not"


class Progress:
    """``probing [####......] 4/10`` on a terminal (redrawn in place, erased at the end); silent when
    the stream is not a terminal or there is a single image."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.done = 0
        self.active = total > 1 and stream.isatty()
        self._draw()

    def _draw(self) -> None:
        if not self.active:
            return
        filled = self.WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\rprobing [{bar}] {self.done}/{self.total}")
        self.stream.flush()

    def advance(self, _result: ImageResult | None = None) -> None:
        self.done += 1
        self._draw()

    def close(self) -> None:
        if self.active:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.active = False
