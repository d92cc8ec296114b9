"""``python -m gradschool.cli ...`` runs the ``gradschool`` command."""

from .main import main

raise SystemExit(main())
