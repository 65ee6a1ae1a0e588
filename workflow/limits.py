"""The limits of what the engine takes, defined once: the use cases enforce them; the forms, the
templates and the OpenAPI document import them, so a form never takes what the engine refuses, nor
refuses what it takes.

Each bound says what it protects. A text is measured as it is given, in
characters (an astral character such as 🚧 counts as one), before the engine
drops its NUL characters and trims its ends: the length a form's ``maxlength``
and the OpenAPI document's ``maxLength`` count is the length the engine refuses.
"""

from __future__ import annotations

# --- texts ---------------------------------------------------------------------------------------

# a note or a reason that goes with a move: checking off, verifying, sending back, reassigning,
# reporting a hazard fixed, asking for more time and deciding on it, a finding's reason. Mails,
# inbox cards and the report's cells show it whole; 2,000 characters are some four printed pages of
# Chinese: what is longer is an attachment
NOTE_LIMIT = 2000
# a text that describes a thing: a hazard and its temporary measures, an incident, a letter or visit
# and how it was processed. Kept whole in the register (台账) and the report's workbook, whose cells
# hold at most 32,767
TEXT_LIMIT = 5000
# where exactly a hazard is: the width of its column (PostgreSQL refuses a longer value, SQLite
# would keep it)
LOCATION_LIMIT = 300
# an e-mail address: the longest a mail server takes (RFC 5321's path, 256 with its brackets), and
# the columns' width
EMAIL_LIMIT = 254
# a password typed at sign-in: hashing costs time in proportion, so an unbounded one is a cheap
# denial of service
PASSWORD_LIMIT = 200

# a mail's subject: one line (a line break in a header stops the mail), short enough for a phone's
# list of mails; the outbox column holds 300
SUBJECT_LIMIT = 200

# --- numbers -------------------------------------------------------------------------------------

# a deadline in working days: a year of them at most; a slip of the keyboard (3000) would put it a
# decade away, past the calendar data known (PITFALLS.md: the calendar then falls back to
# Monday–Friday)
MAX_WORKING_DAYS = 366
# ids are PostgreSQL integer columns: a larger number is no id of ours (SQLite's would go to 2**63 -
# 1), and compared with such a column PostgreSQL fails with "integer out of range" instead of
# finding nothing
MAX_DATABASE_ID = 2**31 - 1
# tasks checked off at once from the inbox: all or none, in one transaction that holds the row lock
# of each
MAX_SELECTED_TASKS = 200

# --- evidence files ------------------------------------------------------------------------------

# files per upload and bytes per file: a phone photo is 2–4 MB; the instance folder's disk is not
# endless, and an upload request is held in memory and on disk until the files are checked
MAX_FILES = 5
MAX_FILE_BYTES = 5 * 1024 * 1024
