"""The administration pages (「管理」), a blueprint each, for the administrators of a unit and every
unit under it (``workflow/access.py``: ``administers``):

- ``home``    ``/admin``: what the administrator looks after, counted, with a link to each page
- ``people``  ``/admin/people``: find, add, edit; roles and a post's hand-over; administrators;
reset links; deactivate after a hand-over, reactivate; each person's history
- ``units``   ``/admin/units``: the unit tree with its key sites; add and rename (nothing deleted)
- ``roster``  ``/admin/roster``: a unit's roster from XLSX or YAML, previewed, applied; exports
- ``roster_words``  the roster pages' words: problems by row and column, open items
- ``definitions``  ``/admin/definitions``: the definitions shipped and stored, a preview of each,
                   its file; upload one (problems by line and key, preview, what changed), store it
- ``starting``     ``/admin/campaigns/new``: start a campaign after a dry run that writes nothing
- ``calendar``     ``/admin/calendar``: the official calendar (a top unit's administrators):
                   status, import (blueprint ``calendar_admin``)
"""
