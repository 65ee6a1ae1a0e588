"""The tests, a folder per layer; fixtures every folder uses are in ``conftest.py``, shared helpers in ``support/``.

- ``unit/``: pure functions, no database (the calendar, definition and organisation files, their fuzzing, the
  shipped files).
- ``engine/``: the engine's use cases against SQLite and PostgreSQL (campaigns, hazards, escalation, recurring
  duties, the inbox, incidents, targets, the assessment and the report, reassignment, tokens, the audit log,
  concurrency, the seed campaigns).
- ``web/``: the pages through Flask's test client (sign-in and security, hardening, the access matrix, reports).
- ``api/``: the JSON API (routes, reports, its authorisation matrix, Schemathesis against its OpenAPI document).
- ``cli/``: the `pingan` command.
- ``operations/``: running it: deployment, scale-out, faults, backup, migrations, production settings, query plans,
  the scheduler, `pingan serve`.
- ``browser/``: a real browser (Debian's chromium through Playwright) against `pingan serve`.

A test module never imports another test module: what two modules share is a fixture or a helper of ``support/``.
"""
