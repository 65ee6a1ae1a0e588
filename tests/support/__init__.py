"""Helpers the tests share, a module per job (fixtures are in the ``conftest.py`` files, not here).

- ``texts``: the organisation and definition texts campaigns start from; ``files/`` holds the two read as files.
- ``paths``: the project's root, the shipped definitions, ``files/``.
- ``clock``: Beijing-time instants (``shanghai(2026, 5, 1, 9)``).
- ``actions``: the engine's use cases as tests call them to set things up (``start``, ``register``, ``sweep``,
  ``actor``), ``OPERATOR`` and ``BASE_URL``.
- ``scenarios``: the assessed railway ``Scenario``, its campaign year, a campaign of another town.
- ``web``: the app over a started campaign, the signed-in ``Visitor``, a page's ``text``, ``PASSWORD``, ``PNG``.
- ``api``: the API ``Caller``, the hazard the API tests register, the JSON error shape.
- ``browser``: Debian's chromium and signing in on its page.
- ``processes``: the `pingan` command as a process, a free port, `pingan serve` on it.
- ``databases``: the PostgreSQL server, scratch databases, row counts, the schema revisions.
- ``mail``: a real SMTP server that keeps what arrives.
- ``terminal``: printing counts past pytest's capture.
- ``race_worker``: a process that moves one task back and forth (run as a script by the concurrency test).
- ``desk``: a coordinator's desk: tasks checked off and hazards reported fixed, awaiting decision.
- ``races``: moves made at the same instant, queued behind a held lock and let go together (``at_once``).
"""
