"""The container deployment, checked without a Docker engine: every command exists, every variable is read."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.support.paths import ROOT
from webapp.cli.main import cli

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
APP_SOURCES = "\n".join(
    p.read_text(encoding="utf-8")
    for folder in ("workflow", "webapp")
    for p in (ROOT / folder).rglob("*.py")
)
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def app_services():
    return {name: service for name, service in COMPOSE["services"].items() if "build" in service}


def test_the_compose_file_has_the_database_migrations_web_schedulers_and_mail_catcher():
    services = COMPOSE["services"]
    assert set(services) == {"db", "migrate", "web", "scheduler", "mail"}
    assert "healthcheck" in services["db"] and "pgdata" in COMPOSE["volumes"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["scheduler"]["deploy"]["replicas"] == 2, "a leader and a standby"


def test_every_command_the_compose_file_runs_exists_in_the_package():
    scripts = PYPROJECT["project"]["scripts"]
    for name, service in app_services().items():
        program, *args = service["command"]
        if program == "pingan":
            assert "pingan" in scripts
            assert args[0] in cli.commands, f"{name}: pingan {args[0]} is not a command"
        else:
            assert program == "gunicorn", name
            assert any(
                dep.startswith("gunicorn")
                for dep in PYPROJECT["project"]["optional-dependencies"]["server"]
            )
            module, attribute = args[-1].split(":")
            assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), args[-1]
            assert (
                f"{attribute} = create_app()"
                in (ROOT / (module.replace(".", "/") + ".py")).read_text()
            )


def test_every_variable_the_compose_file_sets_is_read_by_the_app():
    for name, service in app_services().items():
        for variable in service["environment"]:
            assert re.search(rf"[\"']{variable}[\"']", APP_SOURCES), (
                f"{name}: {variable} is set but never read"
            )


def test_the_image_runs_as_a_non_root_user_without_build_tools():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert len(stages) == 2 and all(stage.startswith("python:3.11-slim") for stage in stages)
    final = dockerfile.split("\nFROM ")[-1]
    assert "USER pingan" in final and "gcc" not in final and "build-essential" not in final
