"""The answer memo: image -> encoded ``GetCredentialsResponse`` (or the error it raised) of one served state.

Bounded in entries AND bytes (a FIFO: the oldest entries go first), and never holding an image longer
than :data:`~pullkey.server.defaults.ANSWER_CACHE_MAX_IMAGE`: an oversized or odd image costs its
lookup every time, never memory that outlives the call. An error is kept as (class, message, code),
without the ``input`` it quoted. The daemon replaces the memo on every reload.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

from pullkey import errors
from pullkey.server import defaults

#: Accounted per entry on top of the image and answer bytes (dict slot, objects, headers).
ENTRY_OVERHEAD = 160


class AnswerMemo:
    """A FIFO of at most ``max_entries`` answers and ``max_bytes`` bytes (0 entries = off)."""

    def __init__(
        self,
        max_entries: int = defaults.ANSWER_CACHE,
        max_bytes: int = defaults.ANSWER_CACHE_BYTES,
        max_image: int = defaults.ANSWER_CACHE_MAX_IMAGE,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_image = max_image
        self.bytes = 0
        self._items: OrderedDict[str, tuple[bytes | errors.PullkeyError, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, image: str) -> bytes | errors.PullkeyError | None:
        hit = self._items.get(image)
        return None if hit is None else hit[0]

    def put(self, image: str, answer: bytes | errors.PullkeyError) -> None:
        """Keep ``answer`` unless the image is oversized or the entry alone would not fit."""
        if self.max_entries <= 0 or len(image) > self.max_image or image in self._items:
            return
        if isinstance(answer, errors.PullkeyError):
            answer = _bare(answer)
            size = len(str(answer))
        else:
            size = len(answer)
        cost = len(image) + size + ENTRY_OVERHEAD
        if cost > self.max_bytes:
            return
        while self._items and (len(self._items) >= self.max_entries or self.bytes + cost > self.max_bytes):
            _, (_, old) = self._items.popitem(last=False)
            self.bytes -= old
        self._items[image] = (answer, cost)
        self.bytes += cost


def _bare(exc: errors.PullkeyError) -> errors.PullkeyError:
    """A copy of ``exc`` with no traceback and no copy of the input (the memo's key is the input)."""
    kept = copy.copy(exc).with_traceback(None)
    if getattr(kept, "input", None):
        kept.input = ""  # type: ignore[attr-defined]
    return kept


def raise_copy(exc: errors.PullkeyError) -> None:
    """Raise a fresh copy: re-raising one object would chain every caller's traceback onto it."""
    raise copy.copy(exc)
