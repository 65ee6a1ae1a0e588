"""A campaign's life: start it, advance it through its phases, and the work each phase creates.

- ``lifecycle``      start a campaign, advance it (the phase machine and its blockers)
- ``cascade``        campaigns at every level: sub-units' campaigns, bound to the parent's phases
- ``trial``          a dry run of a start: the start itself, rolled back, and what it would create
- ``task_rows``      the rows a phase's tasks and duties become, and their escalation steps
- ``fanout``         what a task or duty fans out over: the campaign, each unit, site or list entry
- ``recurring``      recurring duties: each period's occurrence becomes a task, with catch-up
- ``tasks``          a task's moves: check off, send back, verify, cancel
- ``inspections``    inspections checked off only with their findings: no problems, or hazards
- ``letters``        responsibility letters (责任书): drafted with the phase, issued, signed
- ``reassign``       give a task or rectification to someone else; hand over all open work
- ``bulk``           decide many items at once: verify, send back, reassign, each on its own
- ``phase_windows``  a phase running past its planned end with required work open, reported once
"""
