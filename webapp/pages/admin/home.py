"""``/admin``: the administration's home (「管理」), the counts of what an administrator looks after
and a link to each administration page. Anyone who administers no unit gets the forbidden page."""

from __future__ import annotations

from flask import render_template

from webapp.auth.identity import web_actor
from webapp.pages.common import page_blueprint, transaction
from workflow.access import require_administrator
from workflow.views.administration import administration_overview

blueprint = page_blueprint("admin")


@blueprint.get("/admin")
def home() -> str:
    by = web_actor()
    with transaction(readonly=True) as session:
        require_administrator(session, by)
        overview = administration_overview(session, by)
    return render_template("admin/home.html", overview=overview)
