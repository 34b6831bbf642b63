"""``vectorrouter forget`` and ``vectorrouter audit``: read [compliance] from the config file."""

import base64
import json
import sqlite3
from pathlib import Path

import pytest
from tests.support.configs import hash_config

from vectorrouter.cli.main import main

SECRET = base64.b64encode(b"cli-test-secret-of-at-least-32-bytes!").decode()
CONFIG = hash_config(
    64,
    extra="""\
[compliance]
keys_env = "VR_TEST_KEYS"
[compliance.metadata."*"]
allow = ["lang"]
""",
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VR_TEST_KEYS", f"k1={SECRET}")
    (tmp_path / "vectorrouter.toml").write_text(CONFIG)
    rows = [("alice", "solar panels on roofs"), ("alice", "wind turbines at sea"), ("bob", "hydro dams")]
    (tmp_path / "docs.jsonl").write_text(
        "\n".join(
            json.dumps({"id": f"d{i}", "text": t, "metadata": {"user_id": u, "lang": "en"}})
            for i, (u, t) in enumerate(rows)
        )
    )
    return tmp_path


def test_forget_erases_verifies_and_reports_per_place(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "docs.jsonl", "-n", "acme:energy", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["forget", "alice"]) == 0
    out = capsys.readouterr().out
    assert "verified: nothing left" in out
    assert "vector/acme:energy:hash-64" in out
    assert "alice" not in out  # the report names the keyed digest, never the identity
    assert main(["forget", "alice", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["ok"] is True
    assert sum(p["deleted"] for p in again["places"]) == 0
    assert main(["search", "hydro solar wind", "-n", "acme:energy", "--json"]) == 0
    assert [h["id"] for h in json.loads(capsys.readouterr().out)["hits"]] == ["d2"]


def test_audit_verify_passes_then_detects_an_edited_entry(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["ingest", "docs.jsonl", "-n", "acme:energy", "--no-progress"])
    main(["forget", "alice"])
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    assert "audit log OK" in capsys.readouterr().out
    assert main(["audit", "head"]) == 0
    anchor = capsys.readouterr().out.strip()
    assert main(["audit", "verify", "--anchor", anchor]) == 0
    capsys.readouterr()
    with sqlite3.connect(workdir / "data" / "compliance.sqlite") as conn:
        conn.execute("UPDATE vr_audit SET details = '{\"deleted\":0}' WHERE seq = 2")
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "BROKEN" in out
    assert "#2: edited" in out


def test_audit_verify_with_an_anchor_detects_a_cut_tail(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["ingest", "docs.jsonl", "-n", "acme:energy", "--no-progress"])
    main(["forget", "alice"])
    main(["audit", "head"])
    anchor = capsys.readouterr().out.strip().splitlines()[-1]
    with sqlite3.connect(workdir / "data" / "compliance.sqlite") as conn:
        conn.execute("DELETE FROM vr_audit WHERE seq = (SELECT MAX(seq) FROM vr_audit)")
    assert main(["audit", "verify"]) == 0  # a shorter chain is consistent in itself
    assert main(["audit", "verify", "--anchor", anchor]) == 1
    assert "anchor" in capsys.readouterr().out
    assert main(["audit", "verify", "--anchor", "not-an-anchor"]) == 2


def test_commands_without_a_compliance_section_say_which_section_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vectorrouter.toml").write_text(CONFIG.split("[compliance]")[0])
    assert main(["forget", "alice"]) == 2
    assert "no [compliance] section" in capsys.readouterr().err
    assert main(["audit", "verify", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_compliance_config_errors_name_the_field_and_the_fix(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "vectorrouter.toml").write_text(
        CONFIG.replace('[compliance.metadata."*"]', "[compliance.metdata.x]")
    )
    assert main(["forget", "alice"]) == 2
    err = capsys.readouterr().err
    assert "compliance.metdata: unknown key" in err
    assert "did you mean 'metadata'" in err
    (workdir / "vectorrouter.toml").write_text(CONFIG)
    monkeypatch.delenv("VR_TEST_KEYS")
    assert main(["forget", "alice"]) == 2
    assert "VR_TEST_KEYS is not set" in capsys.readouterr().err
    (workdir / "vectorrouter.toml").write_text(
        CONFIG.replace('allow = ["lang"]', "").replace('[compliance.metadata."*"]', "")
    )
    monkeypatch.setenv("VR_TEST_KEYS", f"k1={SECRET}")
    assert main(["forget", "alice"]) == 2
    assert "at least one metadata rule" in capsys.readouterr().err


RESIDENCY = """
[compliance.residency]
namespaces = { "acme-eu:*" = "EU", "acme-us:*" = "US" }
stores = { primary = ["EU"] }
"""


def test_residency_stores_may_use_ladder_aliases_and_a_region_without_stores_is_refused(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "vectorrouter.toml").write_text(CONFIG + RESIDENCY)
    assert main(["ingest", "docs.jsonl", "-n", "acme-eu:energy", "--no-progress"]) == 0
    assert main(["search", "wind", "-n", "acme-eu:energy", "--json"]) == 0
    capsys.readouterr()
    assert main(["ingest", "docs.jsonl", "-n", "acme-us:energy", "--no-progress"]) == 2
    assert "must stay in US" in capsys.readouterr().err
    (workdir / "vectorrouter.toml").write_text(CONFIG + RESIDENCY.replace("primary =", "secundary ="))
    assert main(["forget", "alice"]) == 2
    assert "compliance.residency.stores: unknown step 'secundary'" in capsys.readouterr().err


def test_forget_with_another_secret_for_the_key_is_refused_and_erases_nothing(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "docs.jsonl", "-n", "acme:energy", "--no-progress"]) == 0
    other = base64.b64encode(b"a-different-secret-of-32-bytes-or-more").decode()
    monkeypatch.setenv("VR_TEST_KEYS", f"k1={other}")
    capsys.readouterr()
    assert main(["forget", "alice"]) == 2
    out, err = capsys.readouterr()
    assert "verified" not in out
    assert err.startswith("error: ")
    assert "key 'k1' has a different secret" in err
    assert "Fix: give 'k1' back the secret the data was written with" in err
    with sqlite3.connect(workdir / "data" / "compliance.sqlite") as conn:
        actions = [a for (a,) in conn.execute("SELECT action FROM vr_audit")]
        jobs = conn.execute("SELECT COUNT(*) FROM vr_erasure_jobs").fetchone()[0]
    assert not [a for a in actions if a.startswith("erasure.")]
    assert jobs == 0
    monkeypatch.setenv("VR_TEST_KEYS", f"k1={SECRET}")
    assert main(["audit", "verify"]) == 0
    capsys.readouterr()
    assert main(["search", "hydro solar wind", "-n", "acme:energy", "--json"]) == 0
    assert sorted(h["id"] for h in json.loads(capsys.readouterr().out)["hits"]) == ["d0", "d1", "d2"]
    assert main(["forget", "alice"]) == 0  # with the secret the data was written with, it goes
    assert "verified: nothing left" in capsys.readouterr().out
