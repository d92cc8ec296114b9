"""``gradschool.cli``: the ``gradschool`` command (``gradschool train``, ``evaluate``,
``predict``), in ``gradschool.cli.main``; ``python -m gradschool.cli`` and
``python -m gradschool`` run it too."""
