"""The engine's use cases against SQLite and PostgreSQL: campaigns, hazards and their rectification, escalation,
recurring duties, the inbox, incidents, targets, the assessment and the report, reassignment, organisations and
tokens, the audit log, concurrency, the seed campaigns."""
