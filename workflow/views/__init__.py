"""The read side: what people look at, computed from the engine's rows; nothing here changes a row.

- ``progress``      one campaign's phase, allowed moves, progress per phase, overdue items
(``pingan status``), what blocks the phase, what an advance would do
- ``standing``      the campaigns a person sees, each unit's red/amber/green, what was escalated to
a leader, a person's own items in one campaign
- ``levels``        the campaigns below one, each sub-unit's with its own sub-units summed in
- ``inbox``         a person's open work across campaigns: overdue, due soon, later
- ``letters``       a responsibility letter as it prints, a campaign's letters, the ones awaiting a
person
- ``awaiting``      what awaits a coordinator's decision (待我审核), for the inbox and the digest
- ``open_work``     a campaign's open tasks and rectifications, for reassigning many at once
- ``report``        the campaign report (timeline, per unit, 台账, targets, assessment)
- ``report_files``  the report as CSV (UTF-8 with BOM) and XLSX
- ``results_file``  the assessment's results as the higher level takes them (考核结果报送表, XLSX)
- ``escalation_log`` a campaign's reminders and levels reached: items by title, people told by name
- ``administration`` the administration home's counts: units, people, sites, campaigns
- ``definition_preview`` a definition before it runs: phase windows, tasks, duties' next dates,
the escalation ladder
- ``undelivered``   a campaign's mail given up on (failed for good), for its leading group
"""
