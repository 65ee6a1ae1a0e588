"""Printing to the terminal past pytest's capture: the counts some tests report at the end of their run."""

from __future__ import annotations

import pytest


def print_past_capture(request: pytest.FixtureRequest, lines: list[str]) -> None:
    """Print to the terminal even while pytest captures output (no -s needed)."""
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        print("\n" + "\n".join(lines))
