"""A key site's page (the address its QR code holds), the check-in there, and the sheet of QR codes
coordinators print."""

from __future__ import annotations

from webapp.pages.common import page_blueprint

blueprint = page_blueprint("sites")
