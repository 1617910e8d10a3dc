"""Entry point of ``python -m skbp``: the digits demo (see ``skbp._demo``)."""

from skbp._demo import main

raise SystemExit(main())
