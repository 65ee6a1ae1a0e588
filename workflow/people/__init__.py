"""People's access over time: roles following the organisation, leaving, passwords, administrators.

- ``rebinding``       the organisation's role changes reach every running campaign's role bindings
- ``deactivation``    deactivate a person who leaves (after handing their work over), reactivate
- ``passwords``       one-time passwords, a person's own change, the rules; ending every session
- ``reset_links``     single-use password reset links, valid 24 hours (only their digest stored)
- ``records``         people kept by hand: find, add, edit; a person's history; role titles
- ``posts``           a role given or taken (every running campaign follows), a post's work handed
over
- ``rosters``         apply a previewed roster: import, grants, role bindings, deactivations, once
- ``administrators``  who administers which unit (granted, revoked, audited); the missing calendar
- ``stand_ins``       stand-ins while away (代理): named for dates, copied on mails, acting "for"
"""
