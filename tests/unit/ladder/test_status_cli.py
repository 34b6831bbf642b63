"""``vectorrouter status``: the health report of every ladder step, as a table, JSON or metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.configs import hash_config
from tests.support.services import free_port

from vectorrouter.cli.main import main

CONFIG = hash_config(
    64,
    extra="""\
[ladder]
steps = ["primary", "secondary", "cache"]
[ladder.stores.secondary]
kind = "numpy"
[ladder.cache]
url = "redis://127.0.0.1:{port}/0"
""",
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("redis")
    monkeypatch.chdir(tmp_path)
    # the cache points at a port nobody listens on: the probe must report it, not crash
    (tmp_path / "vectorrouter.toml").write_text(CONFIG.format(port=free_port()))
    (tmp_path / "docs.jsonl").write_text(json.dumps({"id": "d1", "text": "wind turbines at sea"}) + "\n")
    assert main(["ingest", "docs.jsonl", "-n", "acme:energy", "--no-progress"]) == 0
    return tmp_path


def test_status_probe_json_reports_every_step(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["status", "--probe", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert list(rows) == ["numpy", "secondary", "cache"]
    assert (rows["numpy"]["state"], rows["numpy"]["calls"], rows["numpy"]["errors"]) == ("closed", 1, 0)
    assert rows["secondary"]["kind"] == "vector"
    assert rows["cache"]["errors"] == 1
    assert rows["cache"]["error_rate"] == 1.0
    assert "Connection refused" in rows["cache"]["last_error"]


def test_status_table_and_metrics(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "degradation ladder" in out
    assert "secondary" in out
    assert "closed" in out
    assert main(["status", "--metrics"]) == 0
    text = capsys.readouterr().out
    assert "# TYPE vr_breaker_state gauge" in text
    assert 'vr_breaker_state{step="cache"} 0.0' in text
