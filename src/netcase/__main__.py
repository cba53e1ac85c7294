"""Allow ``python -m netcase``."""

from netcase.cli import main

raise SystemExit(main())
