"""The read side: what people look at, computed from the engine's rows; nothing here changes a row.

- ``progress``      one campaign's phase, allowed moves, progress per phase, overdue items
(``pingan status``)
- ``standing``      the campaigns a person sees, each unit's red/amber/green, what was escalated to
a leader
- ``inbox``         a person's open work across campaigns: overdue, due soon, later
- ``report``        the campaign report (timeline, per unit, 台账, targets, assessment)
- ``report_files``  the report as CSV (UTF-8 with BOM) and XLSX
- ``undelivered``   a campaign's mail given up on (failed for good), for its leading group
"""
