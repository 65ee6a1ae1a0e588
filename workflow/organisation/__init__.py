"""The organisation: units, key sites, people, the roles they hold, and their API tokens.

- ``org_file``   the organisation file, validated with file:line errors
- ``directory``  import the file into the database; look people and units up
- ``roles``      role → person resolution for a campaign (谁主管谁负责), the role bindings
- ``tokens``     API tokens: issued once, stored as a digest, revocable
- ``roster``       a roster (花名册) read from an uploaded XLSX or YAML file, each problem at its
  row and column (or line and key); hostile files refused unread
- ``org_changes``  what a roster would change in a unit's scope (the preview): added, changed,
  unchanged, deactivated or kept; reads only
- ``org_export``   a scope written out as an XLSX roster and as an organisation file
"""
