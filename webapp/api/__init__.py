"""The JSON API under ``/api/v1`` (DESIGN.md, HTTP API).

- ``routes``       me, inbox, tasks, campaigns, hazards, rectifications, escalations
- ``reports``      incidents, letters and visits, scores and the report
- ``letters``      responsibility letters (责任书): a campaign's, issue, sign
- ``decisions``    many tasks and rectifications decided at once: verify, send back, reassign
- ``shapes``       the JSON shapes answered: one function per kind of thing
- ``description``  how a route describes itself for the OpenAPI document, next to the route
- ``openapi``      ``GET /api/v1/openapi.json``, assembled from those descriptions
"""
