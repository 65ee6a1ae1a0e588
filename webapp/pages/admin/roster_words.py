"""The roster pages' words (``roster``): each problem of a roster said from its code and values,
where it is (「第 7 行 手机 列（D）」, or a YAML file's line and key), and an organisation file's
problems said again in the page's language. A line no pattern knows is shown as the engine wrote
it.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workflow.organisation.roster import RosterProblem

# what each problem code says, with the problem's values
PROBLEMS = {
    "too_big": _l("The file is larger than %(limit)s MB."),
    "not_roster": _l("Not an XLSX or YAML file: name it .xlsx, .yaml or .yml."),
    "not_xlsx": _l("Not a readable XLSX workbook. Save it from Excel or WPS as .xlsx."),
    "zip_bomb": _l(
        "The workbook unpacks to far more than any roster: refused unread (a zip bomb?)."
    ),
    "too_wide": _l("A row has more than %(limit)s cells: refused unread."),
    "xml_entities": _l("The workbook declares XML entities (an entity bomb?): refused unread."),
    "no_header": _l(
        "No header row found: the first rows must name the columns "
        "姓名, 职务, 单位, 手机, 邮箱, 角色."
    ),
    "duplicate_column": _l("A second column of this name (the first is column %(first)s)."),
    "missing_column": _l("The header row has no %(column)s column."),
    "too_many_rows": _l("More than %(limit)s rows below the header: split the roster."),
    "formula": _l("A formula: type the value itself (formulas are not run)."),
    "required": _l("Empty: every row needs a value here."),
    "too_long": _l("Longer than %(limit)s characters."),
    "bad_email": _l("“%(value)s” is not an e-mail address."),
    "bad_phone": _l("“%(value)s” is not a mobile number (11 digits starting with 1)."),
    "bad_role": _l("“%(value)s” is not a role id (lower-case letters, e.g. village_head)."),
    "duplicate_email": _l("The same e-mail as row %(first)s."),
    "duplicate_phone": _l("The same mobile number as row %(first)s."),
    "person_outside_scope": _l(
        "%(value)s belongs to a unit outside the chosen unit: not this roster's to change."
    ),
    "phone_taken": _l(
        "The mobile number %(value)s is someone else's, who this roster does not give another."
    ),
    "ambiguous_unit": _l("Several units are named “%(value)s” (%(codes)s): write the unit's id."),
    "unit_outside_scope": _l("“%(value)s” is not the chosen unit or a unit under it."),
    "unknown_unit": _l("There is no unit “%(value)s”."),
    "new_top_unit": _l("The new unit “%(value)s” must be placed under a unit of the chosen unit."),
    "scope_moved": _l("The chosen unit itself cannot be moved by its own roster."),
    "unit_loop": _l("“%(value)s” would be under itself."),
    "site_outside_scope": _l("The key site “%(value)s” belongs to a unit outside the chosen unit."),
    "entry_outside_scope": _l("The entry “%(value)s” belongs to a unit outside the chosen unit."),
}
FIELDS = {
    "name": _l("Name"),
    "title": _l("Title"),
    "unit": _l("Unit"),
    "phone": _l("Mobile"),
    "roles": _l("Roles"),
    "administers": _l("Administers"),
    "password": _l("Initial password"),
    "parent": _l("Parent unit"),
    "responsible": _l("Responsible"),
    "note": _l("Note"),
}
# the organisation file's problems (workflow/sourcefile.py, org_file.py) that a roster meets most,
# worded again; any other keeps the engine's words
YAML_PROBLEMS = (
    (re.compile(r"^missing '(.+)'$"), _l("“%(1)s” is missing.")),
    (re.compile(r"^unknown key '([^']+)'"), _l("Unknown key “%(1)s”.")),
    (
        re.compile(r"^duplicate key '(.+)' \(first at line (\d+)\)$"),
        _l("The key “%(1)s” again (first at line %(2)s)."),
    ),
    (
        re.compile(r"^duplicate (e-mail|phone|unit id|site id) '(.+)' \(first at line (\d+)\)$"),
        _l("“%(2)s” again (first at line %(3)s)."),
    ),
    (re.compile(r"^unknown unit '(.+)'$"), _l("There is no unit “%(1)s”.")),
    (
        re.compile(r"^no person with e-mail '(.+)' under people$"),
        _l("Nobody under people has the e-mail %(1)s."),
    ),
    (
        re.compile(r"^a mobile number has 11 digits"),
        _l("Not a mobile number (11 digits starting with 1)."),
    ),
    (
        re.compile(r"^unsupported YAML: aliases expand"),
        _l("Aliases expand to too many values (aliases of aliases?): refused."),
    ),
    (re.compile(r"^unsupported YAML: nested more than"), _l("Nested too deep: refused.")),
    (re.compile(r"^YAML syntax error: (.*)$"), _l("YAML syntax error: %(1)s")),
    (re.compile(r"^the file is empty$"), _l("The file is empty.")),
)


def worded(problem: RosterProblem) -> dict[str, str]:
    """A problem as the page shows it: where (row and column, or line and key) and what."""
    values = dict(problem.values)
    place = problem.place
    if not place.line:
        where = ""
    elif place.letter:
        where = _(
            "Row %(row)d, column %(column)s (%(letter)s)",
            row=place.line,
            column=place.column,
            letter=place.letter,
        )
    elif place.column:
        where = _("Line %(line)d, %(key)s", line=place.line, key=place.column)
    else:
        where = (
            _("Row %(row)d", row=place.line)
            if problem.code == "too_many_rows"
            else _("Line %(line)d", line=place.line)
        )
    template = PROBLEMS.get(problem.code)
    if template is not None:
        what = str(template) % values
    else:
        what = _reworded(problem.message, YAML_PROBLEMS)
    return {"where": where, "what": what, "code": problem.code}


# --- helpers ------------------------------------------------------------------------------------


def _reworded(line: str, patterns: tuple[tuple[re.Pattern[str], Any], ...]) -> str:
    """An engine line in the page's words, by the first pattern it matches (else as it is)."""
    for pattern, words in patterns:
        found = pattern.match(line)
        if found:
            return str(words) % {str(i): part for i, part in enumerate(found.groups(), start=1)}
    return line
