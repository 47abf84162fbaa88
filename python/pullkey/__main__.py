"""``python -m pullkey``: the same as the ``pullkey`` executable."""

from pullkey._launch import main

raise SystemExit(main())
