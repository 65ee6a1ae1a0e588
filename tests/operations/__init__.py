"""Running pingan: the container deployment, scale-out, faults on purpose, backup and restore, migrations,
production settings, query plans, the scheduler, `pingan serve`."""
