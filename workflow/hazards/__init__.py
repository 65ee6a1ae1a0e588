"""Hazards found by inspection and their rectification (隐患整改).

- ``rectifications``  register a hazard; submit, verify (销号), reject, extend, look back
- ``ledger``          the hazard register (隐患台账) as coordinators filter it, and its form's
choices
- ``evidence``        evidence files handed in with a task or a rectification
"""
