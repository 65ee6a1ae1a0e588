"""The pages a field worker uses on a phone: a blueprint each.

- ``sites``    a key site's page (the QR code's address), the check-in, the QR sheet to print
- ``offline``  what makes the app work with no signal: the web app manifest, the service worker,
               a fresh CSRF token for the sends that waited on the phone
"""
