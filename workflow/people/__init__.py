"""People's access over time: roles following the organisation, leaving, passwords, administrators.

- ``rebinding``       the organisation's role changes reach every running campaign's role bindings
- ``deactivation``    deactivate a person who leaves (after handing their work over), reactivate
- ``passwords``       one-time passwords, a person's own change, the rules; ending every session
- ``reset_links``     single-use password reset links, valid 24 hours (only their digest stored)
- ``records``         the directory kept by hand: find, add, edit people; give and take roles, hand
a post over; add and rename units and key sites; a person's history
- ``rosters``         apply a previewed roster: import, grants, role bindings, deactivations, once
- ``administrators``  who administers which unit (granted, revoked, audited); the missing calendar
"""
