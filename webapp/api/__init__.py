"""The JSON API under ``/api/v1`` (DESIGN.md, HTTP API).

- ``routes``       me, inbox, tasks, campaigns, hazards, rectifications, escalations
- ``reports``      incidents, letters and visits, scores and the report
- ``letters``      responsibility letters (责任书): a campaign's, issue, sign
- ``levels``       the campaigns of the sub-units rolled up; a sub-unit's started late
- ``field``        a key site as its page shows it; a check-in there (巡查打卡)
- ``worklists``    the done list and a campaign's register, filtered, searched and paged
- ``list_query``   the work lists' query parameters as the OpenAPI document describes them
- ``decisions``    many tasks and rectifications decided at once: verify, send back, reassign
- ``shapes``       the JSON shapes answered: one function per kind of thing
- ``description``  how a route describes itself for the OpenAPI document, next to the route
- ``openapi``      ``GET /api/v1/openapi.json``, assembled from those descriptions
"""
