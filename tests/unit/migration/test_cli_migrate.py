import json
import re
from pathlib import Path

import pytest

from vectorrouter.cli.main import main

from .conftest import CONFIG


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vectorrouter.toml").write_text(CONFIG)
    topics = ["solar panels", "wind turbines", "hydro dams", "tidal power"]
    (tmp_path / "docs.jsonl").write_text(
        "\n".join(json.dumps({"id": f"d{i}", "text": f"{topics[i % 4]} report {i}"}) for i in range(24))
    )
    assert main(["ingest", "docs.jsonl", "-n", "acme:energy", "--no-progress"]) == 0
    return tmp_path


def test_plan_prints_documents_tokens_cost_target_index_and_schedule(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    args = ["migrate", "plan", "acme:energy", "--to", "hash-48", "--price-per-mtok", "0.02"]
    assert main([*args, "--tokens-per-minute", "60", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["documents"] == 24
    assert plan["target_index"] == "vr-48d-cosine"
    assert plan["steps"] == [5.0, 25.0, 50.0, 100.0]
    assert plan["seconds_at_quota"] == pytest.approx(plan["tokens"])  # 60 tokens a minute: one a second
    assert main(args) == 0
    out = capsys.readouterr().out
    for text in ("documents", "24", "vr-32d-cosine → vr-48d-cosine (48 dims)", "5% → 25% → 50% → 100%"):
        assert text in out


def test_full_migration_through_the_cli(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "start", "acme:energy", "--to", "hash-48", "--no-progress", "--dwell", "0"]) == 0
    assert "parity passed: 24 source vs 24 target records" in capsys.readouterr().out
    for pct in ("5%", "25%", "50%", "100%"):
        assert main(["migrate", "advance", "acme:energy"]) == 0
        assert f"new arm now at {pct}" in capsys.readouterr().out
    assert main(["search", "wind", "-n", "acme:energy", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["namespace"] == "acme:energy:hash-48"  # 100%: even keyless

    assert main(["migrate", "rollback", "acme:energy"]) == 0
    assert main(["search", "wind", "-n", "acme:energy", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["namespace"] == "acme:energy:hash-32"
    assert main(["migrate", "status", "acme:energy"]) == 0
    out = capsys.readouterr().out
    assert "ROLLED BACK" in out
    assert re.search(r"parity\s+│\s+passed", out)
    assert "100% (step 4 of 4)" in out
    assert main(["migrate", "finish", "acme:energy"]) == 2
    assert "rollback flag is set" in capsys.readouterr().err

    assert main(["migrate", "rollback", "acme:energy", "--lift"]) == 0
    assert main(["migrate", "finish", "acme:energy"]) == 0
    capsys.readouterr()
    assert main(["search", "wind", "-n", "acme:energy", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["namespace"] == "acme:energy:hash-48"
    assert main(["migrate", "status", "acme:energy", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["phase"] == "finished"
    assert status["checkpoint"]["embedded"] == 24


def test_budget_pause_exits_with_its_own_code_and_says_how_to_resume(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["migrate", "start", "acme:energy", "--to", "hash-48", "--no-progress", "--batch-size", "8"]
    assert main([*args, "--price-per-mtok", "1000", "--budget", "0.001"]) == 3
    assert "Raise --budget" in capsys.readouterr().out
    assert main([*args, "--price-per-mtok", "1000", "--budget", "1"]) == 0


def test_advancing_before_a_backfill_names_the_fix(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "advance", "acme:energy"]) == 2
    assert "migrate start acme:energy --to VERSION" in capsys.readouterr().err
    assert main(["migrate", "plan", "acme:energy", "--to", "nope"]) == 2
    assert "unknown model version 'nope'" in capsys.readouterr().err


def _finished(drop_old: bool) -> None:
    assert main(["migrate", "start", "acme:energy", "--to", "hash-48", "--no-progress", "--dwell", "0"]) == 0
    for _ in range(4):
        assert main(["migrate", "advance", "acme:energy"]) == 0
    assert main(["migrate", "finish", "acme:energy", *(["--drop-old"] if drop_old else [])]) == 0


def _migration_files(workdir: Path) -> dict[str, bytes]:
    folder = workdir / "data" / "migrations"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


@pytest.mark.parametrize("drop_old", [True, False])
def test_rollback_after_finish_is_refused_and_search_keeps_its_hits(
    workdir: Path, capsys: pytest.CaptureFixture[str], drop_old: bool
) -> None:
    _finished(drop_old)
    before = _migration_files(workdir)
    capsys.readouterr()
    assert main(["migrate", "rollback", "acme:energy"]) == 2
    err = capsys.readouterr().err
    assert "is finished" in err
    assert "migrate start acme:energy --to hash-32" in err
    assert _migration_files(workdir) == before
    assert main(["search", "wind", "-n", "acme:energy", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["namespace"] == "acme:energy:hash-48"
    assert result["hits"]
    assert not result["degraded"]


def test_rollback_with_no_migration_is_refused_and_a_later_migration_moves(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "rollback", "acme:energy"]) == 2
    err = capsys.readouterr().err
    assert "no migration of acme:energy is running" in err
    assert not any(p.suffix == ".rollback" for p in (workdir / "data").rglob("*"))
    _finished(drop_old=False)  # starts, advances and finishes: nothing was left rolled back


def test_lifting_with_no_migration_says_so(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "rollback", "acme:energy", "--lift"]) == 0
    assert "no migration is running; no rollback flag is left" in capsys.readouterr().out
    assert main(["migrate", "rollback", "nobody:here"]) == 2  # a name nobody wrote is refused the same way
    assert "no migration of nobody:here is running" in capsys.readouterr().err


def test_advance_while_rolled_back_names_the_lift(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "start", "acme:energy", "--to", "hash-48", "--no-progress", "--dwell", "0"]) == 0
    assert main(["migrate", "rollback", "acme:energy"]) == 0
    capsys.readouterr()
    assert main(["migrate", "advance", "acme:energy", "--force"]) == 2
    assert "vectorrouter migrate rollback acme:energy --lift" in capsys.readouterr().err


def test_a_second_target_names_commands_that_exist(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "start", "acme:energy", "--to", "hash-48", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["migrate", "start", "acme:energy", "--to", "hash-32", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "already migrating to 'hash-48'" in err
    assert "abort" not in err
    assert "vectorrouter migrate rollback acme:energy" in err


@pytest.mark.parametrize(
    ("action", "option", "value"),
    [
        ("start", "--budget", "-1"),
        ("start", "--budget", "nan"),
        ("start", "--batch-size", "0"),
        ("start", "--dwell", "-5"),
        ("start", "--price-per-mtok", "-0.02"),
        ("plan", "--tokens-per-minute", "-5"),
        ("plan", "--tokens-per-minute", "0"),
        ("plan", "--requests-per-minute", "-1"),
        ("plan", "--batch-size", "-64"),
        ("plan", "--dwell", "nan"),
    ],
)
def test_numeric_options_out_of_range_are_refused_naming_the_option(
    workdir: Path, capsys: pytest.CaptureFixture[str], action: str, option: str, value: str
) -> None:
    capsys.readouterr()
    args = ["migrate", action, "acme:energy", "--to", "hash-48", option, value]
    assert main([*args, *(["--no-progress"] if action == "start" else [])]) == 2
    captured = capsys.readouterr()
    assert f"error: {option}: {value}" in captured.err
    assert "Fix: use e.g." in captured.err
    assert "seconds" not in captured.out  # plan printed nothing (no negative time)
    assert _migration_files(workdir) == {}


@pytest.mark.parametrize(("option", "value"), [("--min-overlap", "1.5"), ("--min-searches", "-1")])
def test_quality_gate_options_out_of_range_are_refused(
    workdir: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    assert main(["migrate", "advance", "acme:energy", "--auto", option, value]) == 2
    assert f"error: {option}: {value}" in capsys.readouterr().err


def test_finish_twice_says_it_is_already_finished(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _finished(drop_old=True)
    capsys.readouterr()
    assert main(["migrate", "finish", "acme:energy", "--drop-old"]) == 2
    err = capsys.readouterr().err
    assert "already finished" in err
    assert "does not exist" not in err
