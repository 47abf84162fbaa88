"""The benchmark's peers: what pullkey is timed against, built on the shared models in ``oracles/``.

The one ``sys.path`` line below makes the repository root (and so ``oracles``) importable when a
bench script is run directly (``python bench/run.py``); under pytest, ``pythonpath`` in
pyproject.toml does the same.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
