"""The administration pages (「管理」), a blueprint each, for the administrators of a unit and every
unit under it (``workflow/access.py``: ``administers``):

- ``home``  ``/admin``: what the administrator looks after, counted, with a link to each page
- ``roster``  ``/admin/roster``: a unit's roster from XLSX or YAML, previewed, applied; exports
- ``roster_words``  the roster pages' words: problems by row and column, open items
"""
