"""In the field: key sites on a phone, check-ins (巡查打卡), and photos as evidence.

- ``photos``    a photo handed in from a phone: decoded to prove it is an image, refused when it is
                a bomb or too large, re-encoded without its location, thumbnailed, its capture
                time kept
- ``sites``     a key site's page: its responsible person, open rectifications, duties and recent
                check-ins; the sites a person may open; the QR sheet's sites
- ``checkins``  a check-in at a site, and the patrol or inspection occurrence it fulfils
- ``visits``    visits per period for the report, and the sites not visited where a visit was due
"""
