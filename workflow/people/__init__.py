"""People's access over time: roles that follow the organisation, leaving, passwords.

- ``rebinding``     the organisation's role changes reach every running campaign's role bindings
- ``deactivation``  deactivate a person who leaves (after handing their work over), reactivate
- ``passwords``     one-time passwords, a person's own change, the rules; ending every session
"""
