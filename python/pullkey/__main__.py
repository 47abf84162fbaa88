"""``python -m pullkey``: the same as the ``pullkey`` executable."""

from pullkey._exec import main

raise SystemExit(main())
