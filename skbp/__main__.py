"""Entry point of ``python -m skbp``: the digits demo (see ``skbp._tools.demo``)."""

from skbp._tools.demo import main

raise SystemExit(main())
