"""The ``pingan`` command: where the engine, the database, the clock and mail are wired together.

- ``main``       the command group and the contract's commands (init, validate, start, status, advance, sweep …)
- ``common``     what every sub-command shares: one-line errors, the actor, dates
- ``hazards``    ``pingan hazard …`` and ``pingan rectification …``
- ``reports``    ``pingan incident record …`` and ``pingan report …``
- ``backup``     ``pingan backup`` and ``pingan restore``
- ``demo``       ``pingan demo``: the seed campaigns under way, as of today
- ``serve``      ``pingan serve``: the web app under waitress
- ``scheduler``  ``pingan scheduler``: the long-running clock, one leader
"""
