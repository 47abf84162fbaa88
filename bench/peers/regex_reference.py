"""The benchmark's pure-Python reference parser: "what a careful Python port looks like".

It is the shared regex model of the grammar, ``oracles/reference.py`` (also the tests' oracle),
used through its raising API (``parse_normalized_named`` raises ``ReferenceError`` with a ``code``
in the vocabulary of docs/reference.md §4) so the bench can compare outcomes with pullkey's.
"""

from oracles.reference import (
    Ref,
    ReferenceError,
    parse,
    parse_normalized_named,
    repository,
    split_docker_domain,
    validate_digest,
)

__all__ = [
    "Ref",
    "ReferenceError",
    "parse",
    "parse_normalized_named",
    "repository",
    "split_docker_domain",
    "validate_digest",
]
