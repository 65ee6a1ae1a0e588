"""The one module that reads the environment: ``Settings.from_env()``, built where a process or an
app starts.

The ``pingan`` command builds its Settings in the group's callback, ``create_app``
when it is called (``webapp/wsgi.py`` for gunicorn), gunicorn's logger when it
sets up; each hands the values on as arguments. ``workflow/`` never reads the
environment: it is given a URL, a statement timeout, a pinned instant, folders.

Reading never fails. A variable whose value may be wrong is kept as given (the
``*_text`` fields) and turned into what a command needs by the property of the
same name, which refuses a bad value with one line when that command runs:
``PINGAN_PORT=eighty`` stops ``pingan serve``, not ``pingan validate``, as it
always did. README (Deployment, the table of variables) lists every one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from workflow.clock import DEFAULT_TIMEZONE, Clock, clock_from_setting
from workflow.db import DEFAULT_STATEMENT_TIMEOUT_MS
from workflow.errors import InvalidInput

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_DIGEST_HOUR = 8
DEFAULT_SCHEDULER_INTERVAL_SECONDS = 60.0
DEFAULT_MAIL_TIMEOUT_SECONDS = 30.0
# Flask-Mail's names (DESIGN.md); listed one by one so that a search for a variable finds where it
# is read
MAIL_VARIABLES = (
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_DEFAULT_SENDER",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_TIMEOUT",
)
_YES = ("1", "true", "yes")
# PINGAN_ENV's words for a deployment that real people sign in to, and for everything else (the
# demo, a laptop, the tests)
PRODUCTION = ("production", "prod")
DEVELOPMENT = ("development", "dev", "demo", "test")
# A session cookie is signed with the secret key: whoever knows the key signs in as anyone. These
# keys are public (the compose file's old placeholder, examples, the usual stand-ins), and a key
# shorter than MIN_SECRET_KEY_LENGTH can be guessed offline from one cookie; production refuses
# both. `secrets.token_hex(32)` (README) gives 64 characters.
PUBLIC_SECRET_KEYS = frozenset(
    {
        "change-me-in-production",
        "change-me",
        "changeme",
        "dev",
        "development",
        "secret",
        "secret-key",
        "test",
        "pingan",
        "pingan-demo",
    }
)
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class Settings:
    """Every environment setting of pingan, read once."""

    instance_path: Path  # PINGAN_INSTANCE_PATH: the SQLite file, evidence uploads
    # PINGAN_DATABASE_URL as given ("": the instance folder's file)
    database_url_text: str = field(repr=False)
    now: str  # PINGAN_NOW: an ISO date-time pinning the clock of any process; "": the system clock
    # PINGAN_TIMEZONE: the zone of naive times, the web pages' dates and the daily digest
    timezone: str
    statement_timeout_text: str  # PINGAN_STATEMENT_TIMEOUT_MS
    # PINGAN_DEFINITIONS_PATH: folders searched for a definition id first
    definitions_path: tuple[Path, ...]
    # PINGAN_SECRET_KEY ("": a random key per process, with a warning)
    secret_key: str = field(repr=False)
    # PINGAN_BASE_URL as given ("": DEFAULT_BASE_URL, in every process: see links_base_url)
    base_url: str
    # PINGAN_ENV as given: "production" or "development" ("": production when PINGAN_BASE_URL is
    # https://)
    environment_text: str
    proxies_text: str  # PINGAN_PROXIES
    # PINGAN_LOG_FORMAT as given; webapp/logs.py falls back to text for an unknown one
    log_format: str
    log_level: str  # PINGAN_LOG_LEVEL as given
    digest_hour_text: str  # PINGAN_DIGEST_HOUR
    scheduler_interval_text: str  # PINGAN_SCHEDULER_INTERVAL
    host: str  # PINGAN_HOST, for `pingan serve`
    port_text: str  # PINGAN_PORT, for `pingan serve`
    mail: Mapping[str, str] = field(repr=False)  # the MAIL_* variables that are set, as given
    # the whole environment, for the PostgreSQL client programs `pingan backup` runs (PATH,
    # PGSSLROOTCERT …)
    child_environment: Mapping[str, str] = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings in ``environ`` (default: this process's environment); never fails."""

        def text(name: str, default: str = "") -> str:
            return environ.get(name, default).strip()

        instance = text("PINGAN_INSTANCE_PATH")
        return cls(
            # Flask's convention for an installed package: the instance folder lives under the
            # environment's prefix, so each virtual environment has its own database
            instance_path=Path(instance)
            if instance
            else Path(sys.prefix) / "var" / "pingan-instance",
            database_url_text=text("PINGAN_DATABASE_URL"),
            now=text("PINGAN_NOW"),
            timezone=text("PINGAN_TIMEZONE") or DEFAULT_TIMEZONE,
            statement_timeout_text=text("PINGAN_STATEMENT_TIMEOUT_MS"),
            definitions_path=tuple(
                Path(entry)
                for entry in environ.get("PINGAN_DEFINITIONS_PATH", "").split(os.pathsep)
                if entry
            ),
            secret_key=text("PINGAN_SECRET_KEY"),
            base_url=text("PINGAN_BASE_URL"),
            environment_text=text("PINGAN_ENV"),
            proxies_text=text("PINGAN_PROXIES"),
            log_format=text("PINGAN_LOG_FORMAT"),
            log_level=text("PINGAN_LOG_LEVEL"),
            # set but empty means off, like "off"; unset means the default hour
            digest_hour_text=text("PINGAN_DIGEST_HOUR", str(DEFAULT_DIGEST_HOUR)),
            scheduler_interval_text=text("PINGAN_SCHEDULER_INTERVAL"),
            host=text("PINGAN_HOST"),
            port_text=text("PINGAN_PORT"),
            mail=MappingProxyType(
                {name: environ[name] for name in MAIL_VARIABLES if name in environ}
            ),
            child_environment=MappingProxyType(dict(environ)),
        )

    @property
    def database_url(self) -> str:
        """``PINGAN_DATABASE_URL``, or a SQLite file in the instance folder (the folder is made
        then)."""
        if self.database_url_text:
            return self.database_url_text
        self.instance_path.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.instance_path / 'pingan.sqlite'}"

    def clock(self) -> Clock:
        """The clock of this process: pinned at ``PINGAN_NOW``, else the system clock; ClockError if
        unreadable."""
        return clock_from_setting(self.now, self.timezone)

    @property
    def statement_timeout_ms(self) -> int:
        """Milliseconds a PostgreSQL statement may run (0: no limit; default 30 s)."""
        configured = self.statement_timeout_text
        if not configured:
            return DEFAULT_STATEMENT_TIMEOUT_MS
        if not configured.isdigit():
            raise InvalidInput(
                "PINGAN_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds (0: no "
                "limit), "
                f"not {configured!r}"
            )
        return int(configured)

    @property
    def links_base_url(self) -> str:
        """Where every link in a mail and every ``link`` of the API points: ``PINGAN_BASE_URL``,
        else DEFAULT_BASE_URL. One rule for every process: a mail written by the web app, the
        sweep or the scheduler links to the same host, whatever address the process listens on."""
        return (self.base_url or DEFAULT_BASE_URL).rstrip("/")

    def unset_base_url_warning(self) -> str | None:
        """What a process that writes mail logs once at start-up when ``PINGAN_BASE_URL`` is
        unset; None when it is set."""
        if self.base_url:
            return None
        return (
            f"PINGAN_BASE_URL is not set: links in mails point to {DEFAULT_BASE_URL}, which only "
            "this machine can open; set it to the address people open the site at (e.g. "
            "https://pingan.example.org)"
        )

    @property
    def production(self) -> bool:
        """Whether real people sign in to this web app: ``PINGAN_ENV=production``, or, when it is
        unset, a ``https://`` PINGAN_BASE_URL (a site behind TLS is a deployment, as README's is;
        the demo, a laptop and the tests use http://)."""
        mode = self.environment_text.lower()
        if mode in PRODUCTION:
            return True
        if mode in DEVELOPMENT:
            return False
        if mode:
            raise InvalidInput(
                f"PINGAN_ENV must be 'production' or 'development', not {self.environment_text!r}"
            )
        return self.base_url.lower().startswith("https://")

    @property
    def web_secret_key(self) -> str:
        """``PINGAN_SECRET_KEY`` for signing the web app's sessions ("": unset). In production, an
        unset, public or short key refuses with one line that never shows a private key."""
        key = self.secret_key
        if not self.production:
            return key
        advice = (
            f"set a random key of at least {MIN_SECRET_KEY_LENGTH} characters: python3 -c "
            "'import secrets; print(secrets.token_hex(32))'"
        )
        if not key:
            # a random key per process: every restart signs everybody out, and each of several
            # workers rejects the others' sessions
            raise InvalidInput(f"PINGAN_SECRET_KEY is not set in production; {advice}")
        if key.lower() in PUBLIC_SECRET_KEYS:
            raise InvalidInput(f"PINGAN_SECRET_KEY is the public placeholder {key!r}; {advice}")
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise InvalidInput(f"PINGAN_SECRET_KEY has only {len(key)} characters; {advice}")
        return key

    @property
    def proxies(self) -> int:
        """How many reverse proxies stand in front of the web app (default 0)."""
        configured = self.proxies_text
        if not configured:
            return 0
        if not configured.isdigit():
            raise InvalidInput(
                f"PINGAN_PROXIES must be the number of reverse proxies in front, not {configured!r}"
            )
        return int(configured)

    @property
    def digest_hour(self) -> int | None:
        """The hour of the daily digest (default 8); None when ``off``."""
        hour_text = self.digest_hour_text.lower()
        if hour_text in ("off", "none", ""):
            return None
        if hour_text.isdigit() and 0 <= int(hour_text) <= 23:
            return int(hour_text)
        raise InvalidInput(f"PINGAN_DIGEST_HOUR must be an hour 0-23 or 'off'; got {hour_text!r}")

    @property
    def scheduler_interval(self) -> float:
        """Seconds between two passes of `pingan scheduler` (default 60)."""
        configured = self.scheduler_interval_text
        if not configured:
            return DEFAULT_SCHEDULER_INTERVAL_SECONDS
        try:
            return float(configured)
        except ValueError:
            raise InvalidInput(
                f"PINGAN_SCHEDULER_INTERVAL must be a number of seconds, not {configured!r}"
            ) from None

    @property
    def port(self) -> int:
        """The port `pingan serve` listens on (default 5000)."""
        if not self.port_text:
            return DEFAULT_PORT
        if not self.port_text.isdigit():
            raise InvalidInput(f"PINGAN_PORT must be a port number, not {self.port_text!r}")
        return int(self.port_text)

    @property
    def mail_server(self) -> str:
        """``MAIL_SERVER`` as given, "" when unset (the demo then writes its mail to a file)."""
        return self.mail.get("MAIL_SERVER", "")

    @property
    def mail_config(self) -> dict[str, object]:
        """Flask-Mail's settings (DESIGN.md: MAIL_SERVER, MAIL_PORT, MAIL_DEFAULT_SENDER …); a
        number that is not one refuses with one line."""
        mail = self.mail
        try:
            port = int(mail.get("MAIL_PORT", "25"))
            timeout = float(mail.get("MAIL_TIMEOUT", str(DEFAULT_MAIL_TIMEOUT_SECONDS)))
        except ValueError as error:
            raise InvalidInput(f"mail settings (MAIL_*): {error}") from None
        return {
            "MAIL_SERVER": mail.get("MAIL_SERVER", "localhost"),
            "MAIL_PORT": port,
            "MAIL_DEFAULT_SENDER": mail.get("MAIL_DEFAULT_SENDER", "pingan@localhost"),
            "MAIL_USE_TLS": mail.get("MAIL_USE_TLS", "").lower() in _YES,
            "MAIL_USE_SSL": mail.get("MAIL_USE_SSL", "").lower() in _YES,
            "MAIL_USERNAME": mail.get("MAIL_USERNAME") or None,
            "MAIL_PASSWORD": mail.get("MAIL_PASSWORD") or None,
            "MAIL_TIMEOUT": timeout,
        }
