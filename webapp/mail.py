"""The Mailer of ``workflow.mail.outbox`` implemented with Flask-Mail: one connection per batch, one
recipient per message."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from flask import Flask
from flask_mail import BadHeaderError, Connection, Mail, Message

from webapp.config import DEFAULT_MAIL_TIMEOUT_SECONDS, Settings
from workflow.mail.outbox import OutgoingMail, Undeliverable


class FlaskMailer:
    """Delivers outbox messages through Flask-Mail with the app's MAIL_* configuration."""

    def __init__(self, app: Flask, timeout: float | None = None) -> None:
        self.app = app
        self.mail: Mail = app.extensions.get("mail") or Mail(app)
        self.timeout = (
            timeout
            if timeout is not None
            else float(app.config.get("MAIL_TIMEOUT", DEFAULT_MAIL_TIMEOUT_SECONDS))
        )

    @contextmanager
    def connect(self) -> Iterator[_Sender]:
        with self.app.app_context():
            # Flask-Mail opens smtplib.SMTP without a timeout: a stalled server would hang the
            # sweep for ever (Flask-Mail issue 114). smtplib takes the socket default at connect.
            previous = socket.getdefaulttimeout()
            socket.setdefaulttimeout(self.timeout)
            try:
                with self.mail.connect() as connection:
                    yield _Sender(
                        connection, self.app.config.get("MAIL_DEFAULT_SENDER") or "pingan@localhost"
                    )
            finally:
                socket.setdefaulttimeout(previous)


def mailer_for(settings: Settings) -> FlaskMailer:
    """A mailer for command-line processes (sweep, scheduler), configured like the web app
    (MAIL_*)."""
    app = Flask("pingan.mail")
    app.config.update(settings.mail_config)
    return FlaskMailer(app)


def mailer_from_env(environ: Mapping[str, str]) -> FlaskMailer:
    """A mailer configured from the MAIL_* variables of ``environ`` (tests and benchmarks hand their
    own)."""
    return mailer_for(Settings.from_env(environ))


class FileMailer:
    """A Mailer that appends each message to a text file: the demo's mail when no MAIL_SERVER is
    set."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def connect(self) -> Iterator[_FileSender]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            yield _FileSender(handle)


class _Sender:
    def __init__(self, connection: Connection, sender: str) -> None:
        self.connection = connection
        self.sender = sender

    def send(self, mail: OutgoingMail) -> None:
        message = Message(
            subject=mail.subject, recipients=[mail.recipient], body=mail.body, sender=self.sender
        )
        # stable: a resend after a crash is recognisable as the same message
        message.msgId = mail.message_id
        try:
            self.connection.send(message)
        except BadHeaderError as error:  # a line break in a header: no retry will change that
            raise Undeliverable(f"bad header (a line break?) in {mail.subject!r}") from error


class _FileSender:
    def __init__(self, handle: TextIO) -> None:
        self.handle = handle

    def send(self, mail: OutgoingMail) -> None:
        self.handle.write(
            f"Message-ID: {mail.message_id}\nTo: {mail.recipient}\nSubject: {mail.subject}\n\n"
            f"{mail.body}\n\n{'=' * 72}\n"
        )
