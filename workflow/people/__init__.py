"""People's access over time: roles following the organisation, leaving, passwords, administrators.

- ``rebinding``       the organisation's role changes reach every running campaign's role bindings
- ``deactivation``    deactivate a person who leaves (after handing their work over), reactivate
- ``passwords``       one-time passwords, a person's own change, the rules; ending every session
- ``administrators``  who administers which unit (granted, revoked, audited); the missing calendar
"""
