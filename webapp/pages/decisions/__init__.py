"""Decisions on many items at once, a coordinator's page of its own (「批量处理」):

- ``bulk``     ``/decisions``: what awaits my decision and a campaign's open work, with check boxes;
               verify, send back with one reason, reassign; one confirmation; each item's outcome
- ``outcomes`` a batch's outcomes kept for the result page, so that a reload shows them again and
               decides nothing twice
"""
