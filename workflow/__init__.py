"""The engine: campaigns, their tasks, hazards, deadlines and escalation. No Flask anywhere in here.

What it needs from outside (a clock, a mailer) it is given as an argument; use cases take a
SQLAlchemy ``Session`` and never commit: the caller's transaction does.

The foundation, at this level:

- ``errors``      errors a user can cause: one taxonomy, shown as a CLI line or the JSON error shape
- ``clock``       the one clock every time-dependent function takes ``now`` from
- ``calendar``    China's working-day calendar: holidays, 调休, operator overrides, estimates
                  beyond the data
- ``calendar_files`` a year's official holidays and 调休 read from a file (holiday-cn, YAML, CSV)
- ``durations``   ``30d`` / ``5wd`` as written in definitions; the last day a person reads
- ``limits``      text lengths, date ranges and other bounds, defined once for forms, API and engine
- ``machines``    the state machines (transitions), built once and applied to rows
- ``access``      who may see or change a campaign: the one place for that rule
- ``audit``       the audit trail and the actor behind every change
- ``form_keys``   one-time form keys: the same form posted twice creates one thing
- ``models``      SQLAlchemy mapped classes: the engine's tables
- ``db``          engines, sessions, SQLite made safe for several writers, migrations
- ``sourcefile``  our YAML files read with the line of every key, checked against a schema
- ``backup``      the whole database to one file and back
- ``migrations/`` Alembic scripts, shipped inside the package

The areas, one folder each:

- ``definitions/``  campaign definitions: read, check, store
- ``organisation/`` units, sites, people, role resolution (谁主管谁负责), API tokens
- ``people/``       roles that follow the organisation into campaigns, leaving, passwords
- ``campaigns/``    start and advance a campaign, its tasks, fan-out, recurring duties, reassignment
- ``hazards/``      hazards and their rectification, the register (台账), evidence files
- ``petitions/``    letters and visits (信访)
- ``assessment/``   incidents, targets, scores and grades
- ``escalation/``   levels, the queue, the sweep, the daily digest, the scheduler
- ``mail/``         the outbox and the words of the mails
- ``views/``        the read side: progress, standing, inbox, report, report files
- ``worklists/``    work lists at scale: filters, keyset pages, Chinese search, saved views
- ``field/``        in the field: key sites on a phone, check-ins (巡查打卡), photos as evidence
"""
