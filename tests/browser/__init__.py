"""A real browser (Debian's chromium through Playwright) against `pingan serve`."""
