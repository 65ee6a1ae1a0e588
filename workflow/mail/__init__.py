"""Mail: written in the transaction that causes it, delivered afterwards (no Flask-Mail in here).

- ``outbox``  the durable outbox and its delivery through a ``Mailer``, each mail once
- ``texts``   the words of the mails: Chinese first, with an English line
- ``sent_back``  the mail telling a person their work was sent back, with the reason
"""
