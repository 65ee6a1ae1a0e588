"""The ``pingan`` command: where the engine, the database, the clock and mail are wired together.

- ``main``       the command group (it reads the settings once) and the contract's commands
                 (init, validate, start, status, advance, sweep …); it adds the modules' commands
- ``common``     what every sub-command shares: the settings and wiring, one-line errors, the
                 actor, dates; the modules below import it, never ``main``
- ``hazards``    ``pingan hazard …`` and ``pingan rectification …``
- ``reports``    ``pingan incident record|reported …`` and ``pingan report …``
- ``letters``    ``pingan letter list|issue|sign``: responsibility letters (责任书)
- ``decisions``  ``pingan decide verify|reject|reassign KIND:ID:STATE...``: many items at once
- ``people``     ``pingan person deactivate|reactivate|password``
- ``admin``      ``pingan admin grant|revoke EMAIL --unit CODE``: who administers a unit
- ``backup``     ``pingan backup`` and ``pingan restore``
- ``calendar``   ``pingan calendar status|import``: each year's source, a year's schedule entered
- ``demo``       ``pingan demo``: the seed campaigns under way, as of today
- ``serve``      ``pingan serve``: the web app under waitress
- ``scheduler``  ``pingan scheduler``: the long-running clock, one leader
"""
