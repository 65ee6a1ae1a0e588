"""The limits of what the engine takes, defined once: the use cases enforce them; the forms, the
templates and the OpenAPI document import them, so a form never takes what the engine refuses, nor
refuses what it takes.

Each bound says what it protects. A text is measured as it is given, in
characters (an astral character such as 🚧 counts as one), before the engine
drops its NUL characters and trims its ends: the length a form's ``maxlength``
and the OpenAPI document's ``maxLength`` count is the length the engine refuses.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from workflow.errors import InvalidInput

if TYPE_CHECKING:  # only its type: the forms import this module, and need no calendar
    from workflow.calendar import WorkingCalendar

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
# a campaign's own title (`pingan start --title`, the start page): the campaigns table's column
CAMPAIGN_TITLE_LIMIT = 300
# an e-mail address: the longest a mail server takes (RFC 5321's path, 256 with its brackets), and
# the columns' width
EMAIL_LIMIT = 254
# a mainland mobile number has 11 digits; room for a written +86 prefix is not needed (stored bare)
PHONE_LIMIT = 20
# a password typed at sign-in: hashing costs time in proportion, so an unbounded one is a cheap
# denial of service
PASSWORD_LIMIT = 200
# a person's own password: long enough that the throttle's guesses get nowhere
MIN_PASSWORD_LENGTH = 10

# a saved view's name (「本周到期的重大隐患」): a line of the navigation, on a phone
VIEW_NAME_LIMIT = 60
# a saved view's filter as a query string: a dozen short parameters and a search of SEARCH_LIMIT
VIEW_QUERY_LIMIT = 1000
# a search typed in a list's box: a phrase, not a document; the trigram index makes each character
# a lookup
SEARCH_LIMIT = 100

# a form's one-time key (workflow/form_keys.py): the keys made are 22 characters; a longer one was
# not made here, and the column holds 64
FORM_KEY_LIMIT = 64

# a mail's subject: one line (a line break in a header stops the mail), short enough for a phone's
# list of mails; the outbox column holds 300
SUBJECT_LIMIT = 200
# the items one reminder or escalation mail lists line by line, the worst first; the others are
# counted and linked. A sweep after a holiday told a deputy of 6,000 hazards in one 2.5 MB mail:
# nobody reads it on a phone, and many mail servers refuse it
MAIL_ITEMS_LISTED = 20

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
# rows of a work list shown at once (the inbox, the done list, the register): a phone's screen
# scrolls through 50 cards; the next page is a keyset away, however long the list
PAGE_SIZE = 50
# a search's matches ranked by relevance and counted: a common word (「护栏」 in a county's
# register) matches tens of thousands, which nobody reads ranked; past this they are listed by due
# date and counted as "more than 1,000" (a second word narrows them)
SEARCH_RANK_LIMIT = 1000
# "due within N working days": a month of them at most (the filter's ``within``)
MAX_WITHIN_DAYS = 22
# saved views one person keeps: a navigation longer than this is not read
MAX_SAVED_VIEWS = 20

# items a coordinator decides at once (verify, send back, reassign: workflow/campaigns/bulk.py),
# each in a SAVEPOINT of its own and each with its audit event and mails; a page of 100 is what a
# phone scrolls through, and the result the page carries back fits a session cookie
MAX_DECIDED_AT_ONCE = 100

# --- dates ---------------------------------------------------------------------------------------

# A date a person types (a deadline, the deadline an extension asks for, the day a letter came) lies
# between the campaign's start, or today for a deadline, and MAX_WORKING_DAYS working days from
# today. 9999-12-31 went through and overflowed later: its end of day is past datetime's range, and
# an extension asked until then failed only when a coordinator approved it.


def latest_date(today: date, calendar: WorkingCalendar) -> date:
    """The latest date a person may give for something to happen: MAX_WORKING_DAYS working days
    after ``today``."""
    return calendar.add_working_days(today, MAX_WORKING_DAYS)


def check_not_too_far(value: date, field: str, *, today: date, calendar: WorkingCalendar) -> date:
    """``value`` if it is no later than :func:`latest_date`; else the refusal (InvalidInput)."""
    # n working days are at least n calendar days: a nearer date needs no walk through the calendar
    if (value - today).days <= MAX_WORKING_DAYS:
        return value
    latest = latest_date(today, calendar)
    if value > latest:
        raise InvalidInput(
            f"{field} {value.isoformat()} is too far ahead: at most {MAX_WORKING_DAYS} working "
            f"days from today ({latest.isoformat()})"
        )
    return value


# --- evidence files ------------------------------------------------------------------------------

# files per upload and bytes per file. The page's script (webapp/static/photos.js) scales a photo
# to PHOTO_LONG_SIDE before it is sent, some 300–600 KB; without it (an old browser, the script
# blocked) the phone's own file arrives: 3–6 MB for 12 megapixels, 8–12 MB for a 48/50-megapixel
# phone's full-resolution mode. 12 MB takes those (5 MB refused a good share of them); the disk does
# not pay for it, since a photo is stored re-encoded at 1,600 px; a PDF is kept as sent. The request
# (all files together) is spooled to disk by Werkzeug, not held in memory.
MAX_FILES = 5
MAX_FILE_BYTES = 12 * 1024 * 1024
# a photo's pixels, read from its header before any is decoded: a 50-megapixel phone's photo (8,160
# × 6,120) passes; a PNG "bomb" of 20,000 × 20,000 (400 megapixels, 1.6 GB decoded, a few hundred KB
# as a file) does not. A PNG cannot be decoded at a reduced scale, so this bounds its memory too
# (50 MP × 4 bytes: 200 MB at most).
MAX_PHOTO_PIXELS = 50_000_000
# the long side of a stored photo: sharp on a laptop's screen and in print at A5, some 300 KB
PHOTO_LONG_SIDE = 1600
# the long side of a thumbnail: two side by side fill a 360 px phone, and the ledger's cells
THUMBNAIL_LONG_SIDE = 320
# ledger rows whose first before and after thumbnails the XLSX embeds (some 30 KB a row): a
# county's 20,000 hazards would be a 600 MB workbook; past this the rows link to nothing, and the
# report page shows every row's photos
MAX_LEDGER_PHOTO_ROWS = 500

# --- definition files ----------------------------------------------------------------------------

# A definition is read, checked against its schema and cross-checked whole before anything is
# refused, at some 0.3 ms and 10 KB a task: `pingan validate` of 100,000 tasks took 41 s and
# 963 MB. The shipped ones have at most 19 KB, 4 phases and 7 tasks to a phase; these bounds leave
# room for ten times that or more, and a campaign's tasks are made for every sub-unit, so 100 to a
# phase is already a great many rows. The size is checked before the YAML is read, the counts
# before the schema and the checks.
MAX_DEFINITION_BYTES = 256 * 1024
MAX_PHASES = 20
# one-off tasks of a phase, and recurring duties of a phase, each
MAX_TASKS_PER_PHASE = 100
# one-off tasks and recurring duties of all phases together
MAX_TASKS = 500

# --- calendar files ------------------------------------------------------------------------------

# A year of the State Council's schedule is some 40 days: holiday-cn's file for a year is 3–5 KB.
# An upload on the administrator's page larger than this is no calendar; it stays far below the
# request limit (MAX_REQUEST_BYTES), so a wrong file is refused with a reason.
MAX_CALENDAR_FILE_BYTES = 256 * 1024

# --- rosters (花名册) ---------------------------------------------------------------------------

# A roster is an XLSX spreadsheet or an organisation YAML file uploaded on /admin/roster. A county's
# roster of 5,000 people is some 250 KB as XLSX and 600 KB as YAML; 4 MB leaves room for a logo or a
# photo in the workbook, and the request is held in memory until it is read.
MAX_ROSTER_FILE_BYTES = 4 * 1024 * 1024
# people (rows below the header) a roster may have: a county's, many times over. openpyxl reads
# row by row (read-only mode) and stops past this, so a sheet of 1,000,000 rows costs a second.
MAX_ROSTER_ROWS = 5000
# columns read of each row: the roster's six and any the office keeps beside them
MAX_ROSTER_COLUMNS = 50
# cells a row of the sheet may have at all (Excel writes the cells that hold something): a row of
# a million cells would be built whole before it is read, a gigabyte of objects
MAX_ROW_CELLS = 1000
# An XLSX file is a zip of XML. What its members declare they unpack to is checked before openpyxl
# opens it (Python's zipfile stops at the declared size, so a member cannot lie past it): a zip
# bomb declares gigabytes from a few kilobytes. 64 MB is a sheet of a million small rows; openpyxl
# reads the shared strings whole, so they have a bound of their own.
MAX_XLSX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_XLSX_SHARED_STRINGS_BYTES = 8 * 1024 * 1024
MAX_XLSX_MEMBERS = 200
# deflate packs repetitive XML 10–30 times; a bomb's zeros pack a thousand times
MAX_XLSX_RATIO = 200
# problems a refused roster lists (the first ones, in row order): a wrong file may have thousands
MAX_ROSTER_PROBLEMS = 200
# an uploaded roster waits this long for its apply, stored by its digest in the instance folder
ROSTER_UPLOAD_HOURS = 2

# levels of campaigns one above the other (province → city → county → town → village → group):
# a chain of cascading definitions deeper than this is a cycle of distinct ids (a → b → a)
MAX_LEVELS = 8
# campaigns named in one statement's IN list: a cascade's thousand at once (SQLite binds at most
# 32,766 parameters)
CAMPAIGNS_PER_STATEMENT = 1000
