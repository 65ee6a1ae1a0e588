"""Letters and visits (信访): recorded with a processing deadline, processed, escalated when late.

- ``handling``  record a letter or visit, process it (办结); its state machine lives in
``workflow.machines``
- ``major_meeting``  the meeting a major letter or visit calls for (重大信访会制度)
- ``reading``   one letter or visit as its page shows it, and the open ones a person must process
"""
