"""Independent, deliberately simple models that pullkey is checked against (never imports pullkey).

- ``kubelet_sim``: the kubelet's image-credential behaviour (docs/kubelet.md), byte-exact.
- ``reference``: the image reference grammar (docs/reference.md), with Python regular expressions.

The tests use them as oracles; the benchmark's peers (``bench/peers/``) time the same code, so what
pullkey is measured against is what it is tested against. Importable from the repository root:
pytest adds it (``pythonpath`` in pyproject.toml), ``bench/peers/__init__.py`` adds it for the bench.
"""
