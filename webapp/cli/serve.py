"""`pingan serve`: the web app under waitress, a production WSGI server (never Flask's development
server).

It serves pages and the API only: the clock (reminders, escalations, mail)
runs in `pingan scheduler`, so any number of `serve` processes can run side by
side without sending a mail twice (PITFALLS.md, APScheduler).
"""

from __future__ import annotations

import logging

import click

from webapp.cli.common import one_line_errors, settings
from webapp.config import DEFAULT_HOST, DEFAULT_PORT, Settings
from webapp.wiring import wiring_for
from workflow.errors import InvalidInput

DEFAULT_THREADS = 8
# the largest request the app accepts (evidence uploads); waitress refuses anything larger before
# the app sees it
MAX_REQUEST_BODY = 32 * 1024 * 1024

log = logging.getLogger("pingan.serve")


@click.command()
@click.option(
    "--host",
    default=None,
    metavar="HOST",
    help=f"Address to listen on (default: $PINGAN_HOST, else {DEFAULT_HOST}).",
)
@click.option(
    "--port",
    type=int,
    default=None,
    metavar="PORT",
    help=f"Port to listen on (default: $PINGAN_PORT, else {DEFAULT_PORT}).",
)
@click.option(
    "--threads", type=int, default=DEFAULT_THREADS, show_default=True, help="Worker threads."
)
@one_line_errors
def serve(host: str | None, port: int | None, threads: int) -> None:
    """Serve the web app and the JSON API with waitress; the scheduler runs separately (`pingan
    scheduler`)."""
    run_server(settings(), host, port, threads)


def run_server(configured: Settings, host: str | None, port: int | None, threads: int) -> None:
    """Serve the app of these settings (``pingan demo`` hands its own database in) until stopped."""
    import waitress

    from webapp import create_app

    host = host or configured.host or DEFAULT_HOST
    port = port if port is not None else configured.port
    if not 0 < port < 65536:
        raise InvalidInput(f"--port must be from 1 to 65535, not {port}")
    if threads < 1:
        raise InvalidInput(f"--threads must be at least 1, not {threads}")
    _ = configured.web_secret_key  # in production a weak key ends here, with one line
    wiring_for(configured)  # a database without schema ends here, with one line
    # the links in mails follow PINGAN_BASE_URL (else its default), never this listening address:
    # the scheduler and `pingan sweep` cannot know it, and their mails must link where these do
    app = create_app(settings=configured)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    click.echo(
        f"pingan: serving http://{host}:{port}/ with waitress ({threads} threads); Ctrl-C stops",
        err=True,
    )
    try:
        waitress.serve(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="pingan",
            max_request_body_size=MAX_REQUEST_BODY,
            # the app's ProxyFix is the one reader of X-Forwarded-*, under waitress and gunicorn
            # alike (webapp/__init__.py): waitress must hand them on untouched. Its default clears
            # them when no trusted_proxy is set, and with PINGAN_PROXIES=1 every client then looked
            # like the proxy, so one address's failures locked everybody out of signing in
            clear_untrusted_proxy_headers=False,
        )
    except OSError as error:
        raise InvalidInput(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
