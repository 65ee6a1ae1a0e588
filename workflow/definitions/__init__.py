"""Campaign definitions: the YAML a campaign type is written in.

- ``reader``     read a definition file, report every problem by file, line and key, build the specs
- ``checks``     what a JSON schema cannot check: cross-references, duplicates, cron expressions
- ``catalogue``  definitions as stored: (id, version) fixes the text; a running campaign keeps its
                 version; the shipped and stored ones listed for the administration pages
- ``changes``    what changed between two versions: phases, tasks, duties, levels (added, removed,
                 changed)
- ``plan``       a campaign's plan as its text writes it: phase windows fixed at start, due dates
                 (after the phase starts, before it ends, on a date), the text's dates moved
- ``cron``       a duty's 5-field cron expression read as crontab reads it (0 or 7 = Sunday)
- ``proposals``  what a definition proposes where its text is silent (``proposal:``, 建议值)
- ``texts``      the English twins of a definition's texts (``title_en``), for pages in English
"""
