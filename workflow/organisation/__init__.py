"""The organisation: units, key sites, people, the roles they hold, and their API tokens.

- ``org_file``   the organisation file, validated with file:line errors
- ``directory``  import the file into the database; look people and units up
- ``roles``      role → person resolution for a campaign (谁主管谁负责), the role bindings
- ``tokens``     API tokens: issued once, stored as a digest, revocable
- ``tree``       the unit tree kept by hand: add and rename units and key sites (nothing deleted)
- ``fields``     names, ids, e-mails, phones and role ids as typed on the pages, checked one way;
  a change of the directory audited one way
- ``roster``        a roster (花名册): its people with the place of each value, its problems at
  their places, and the plan of what it changes (the preview)
- ``roster_files``  read an uploaded roster: an organisation YAML file, or by ``roster_xlsx``
- ``roster_xlsx``   an XLSX roster's first sheet, streamed; zip bombs, huge sheets, formulas refused
- ``org_changes``   what a roster would change in a unit's scope: added, changed, unchanged,
  deactivated or kept; reads only
- ``unit_changes``  an organisation file's units, key sites and lists in that plan
- ``org_export``    a scope written out as an XLSX roster and as an organisation file
"""
