"""A real SMTP server for the tests to read mail from (the ``smtp`` fixture of ``tests/conftest.py``)."""

from __future__ import annotations

import socket


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what arrives; it can be stopped and restarted."""

    def __init__(self) -> None:
        with socket.socket() as probe:  # aiosmtpd's start() connects to itself: port 0 won't do
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.messages: list[dict[str, object]] = []
        self.controller = None
        self.reply: str | None = None  # e.g. "451 try again later" to refuse every message
        self.refuse: dict[str, str] = {}  # recipient → reply, e.g. "550 5.1.1 no such mailbox"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001 - aiosmtpd's hook name
                if sink.reply:
                    return sink.reply
                for recipient in envelope.rcpt_tos:
                    if recipient in sink.refuse:
                        return sink.refuse[recipient]
                import email

                message = email.message_from_bytes(envelope.content)
                sink.messages.append(
                    {
                        "to": list(envelope.rcpt_tos),
                        "subject": _decoded(message["Subject"]),
                        "message_id": message["Message-ID"],
                        "body": message.get_payload(decode=True).decode("utf-8"),
                    }
                )
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[dict[str, object]]:
        return [m for m in self.messages if address in m["to"]]


def _decoded(header: str | None) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(header or "")))
