"""The administration pages (「管理」), a blueprint each, for the administrators of a unit and every
unit under it (``workflow/access.py``: ``administers``):

- ``home``         ``/admin``: what the administrator looks after, counted, a link to each page
- ``definitions``  ``/admin/definitions``: the definitions shipped and stored, a preview of each,
                   its file; upload one (problems by line and key, preview, what changed), store it
- ``starting``     ``/admin/campaigns/new``: start a campaign after a dry run that writes nothing
"""
