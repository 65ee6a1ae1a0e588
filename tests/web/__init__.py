"""The pages through Flask's test client: the inbox and the campaign pages, sign-in and security, hardening, any
script in any field, the report pages, the access matrix."""
