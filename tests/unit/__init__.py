"""Pure functions, no database: the working-day calendar, definition and organisation files (and fuzzing them),
the shipped definitions and sample organisations."""
