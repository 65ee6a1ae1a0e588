"""The organisation: units, key sites, people, the roles they hold, and their API tokens.

- ``org_file``   the organisation file, validated with file:line errors
- ``directory``  import the file into the database; look people and units up
- ``roles``      role → person resolution for a campaign (谁主管谁负责), the role bindings
- ``tokens``     API tokens: issued once, stored as a digest, revocable
"""
