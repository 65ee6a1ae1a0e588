"""Where things are: the project's root, its shipped definitions, and the tests' own data files."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the shipped campaign definitions, sample organisations and JSON schemas
SHIPPED = ROOT / "definitions"
# YAML files the tests read as files (see texts.py)
FILES = Path(__file__).resolve().parent / "files"
