"""The clock's work: reminders and escalation (督办), each level once, and the processes that run
it.

- ``levels``     a reminder before the deadline, then each level of the definition after it
- ``queue``      when each open item's next reminder or level comes due (a narrow table)
- ``sweep``      one pass of the clock: recurring duties, escalations, digest, mail delivery
- ``digest``     the daily digest, once a working day per person
- ``scheduler``  the long-running clock: one leader among any number of scheduler processes
- ``estimates``  estimated dates (a year without the official calendar) counted again on import
"""
