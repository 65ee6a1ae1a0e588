"""A key site's page (the address its QR code holds), the check-in there, and the sheet of QR codes
coordinators print."""

from __future__ import annotations

import segno
from flask import render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from webapp.auth.identity import web_actor
from webapp.pages import evidence_store
from webapp.pages.common import (
    back_with,
    base_url,
    clock,
    page_blueprint,
    refusal,
    submitted_before,
    transaction,
)
from webapp.pages.forms import CheckInForm, first_error
from webapp.security import accepts_uploads
from workflow.access import load_campaign
from workflow.errors import Conflict, InvalidInput
from workflow.field.checkins import check_in, location_from, phone_time_from
from workflow.field.sites import code_sheet_sites, site_page
from workflow.form_keys import AlreadySubmitted

blueprint = page_blueprint("sites")


@blueprint.get("/sites/<int:site_id>")
def site(site_id: int) -> str:
    with transaction(readonly=True) as session:
        page = site_page(session, site_id, by=web_actor(), now=clock().now())
        return render_template("sites/site.html", page=page, form=CheckInForm())


@blueprint.post("/sites/<int:site_id>/check-in")
@accepts_uploads
def check_in_here(site_id: int) -> BaseResponse:
    form = CheckInForm()
    here = url_for("sites.site", site_id=site_id)
    if not form.validate_on_submit():
        return back_with(first_error(form), None, here)
    by = web_actor()
    try:
        phone_at = phone_time_from(form.phone_time.data)
        location = location_from(form.latitude.data, form.longitude.data, form.accuracy.data)
        files = evidence_store.accept(None, photos=form.photos.data)  # images only
        with evidence_store.kept(files) as accepted, transaction() as session:
            done = check_in(
                session,
                site_id,
                by=by,
                clock=clock(),
                note=form.note.data,
                phone_at=phone_at,
                location=location,
                form_key=form.form_key.data,
                photos=accepted,
            )
            fulfilled = len(done.fulfilled)
    except AlreadySubmitted:
        return submitted_before(here)
    except (Conflict, InvalidInput) as error:
        return back_with(refusal(error), None, here)
    message = (
        ngettext(
            "Checked in: %(num)d patrol or inspection is done.",
            "Checked in: %(num)d patrols or inspections are done.",
            fulfilled,
        )
        if fulfilled
        else _("Checked in.")
    )
    return back_with(message, None, here, "success")


@blueprint.get("/campaigns/<int:campaign_id>/site-codes")
def code_sheet(campaign_id: int) -> str:
    """The sheet of QR codes, one per key site with its name under it, to print on A4 and
    laminate; each code holds the site page's address (opened signed in)."""
    with transaction(readonly=True) as session:
        sites = code_sheet_sites(session, campaign_id, by=web_actor())
        campaign = load_campaign(session, campaign_id)
        codes = [
            (site, unit, address, _qr_svg(address))
            for site, unit in sites
            for address in [base_url().rstrip("/") + url_for("sites.site", site_id=site.id)]
        ]
        return render_template("sites/codes.html", campaign=campaign, codes=codes)


# --- helpers -------------------------------------------------------------------------------------


def _qr_svg(address: str) -> Markup:
    """The QR code of an address as inline SVG, sized by the sheet's CSS (crisp at any print
    size); error correction M survives a scuffed laminate."""
    code = segno.make(address, error="m", micro=False)
    return Markup(code.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr"))
