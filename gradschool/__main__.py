"""``python -m gradschool train`` runs the ``gradschool`` command."""

from .cli.main import main

raise SystemExit(main())
