"""The JSON API under /api/v1: its routes, the report routes, its authorisation matrix, Schemathesis against its
OpenAPI document."""
