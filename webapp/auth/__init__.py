"""Who is asking, and signing in.

- ``identity``  an API token or the browser session (Flask-Login) becomes the engine's actor
- ``signin``    the sign-in and sign-out pages and the language switch
- ``reset``     choosing a new password from a single-use reset link (``/reset?token=…``)
- ``throttle``  failed sign-ins counted in the database, per account and per address
"""
