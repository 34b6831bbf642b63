"""``[compliance] database``: paths, SQLite and PostgreSQL URLs; any other scheme is refused, not a file name."""

from pathlib import Path

import pytest

from vectorrouter.compliance._db import Database, database_url
from vectorrouter.compliance.config import ComplianceConfig
from vectorrouter.config import parse_config
from vectorrouter.errors import ConfigurationError

RULES = {"*": {"allow": ["lang"]}}


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("postgresql://me@db/test", "postgresql://me@db/test"),
        ("postgres://me@db/test", "postgresql://me@db/test"),
        ("postgresql+psycopg://me@db/test", "postgresql://me@db/test"),
        ("sqlite:///var/data/c.sqlite", "sqlite:///var/data/c.sqlite"),
        ("compliance.sqlite", "compliance.sqlite"),
    ],
)
def test_known_spellings_are_read(given: str, read: str) -> None:
    assert database_url(given) == read


@pytest.mark.parametrize("given", ["mysql://x", "sqlite+pysqlite:///c.db", "http://db/test"])
def test_other_schemes_are_refused_and_create_nothing(given: str, tmp_path: Path) -> None:
    config = ComplianceConfig.model_validate({"database": given, "metadata": RULES})
    with pytest.raises(ConfigurationError, match=r"compliance\.database: unsupported database URL scheme"):
        config.database_url(tmp_path)
    with pytest.raises(ConfigurationError, match="Fix: give a file path"):
        Database.connect(given)
    assert list(tmp_path.iterdir()) == []


def test_a_relative_path_lives_under_the_data_folder(tmp_path: Path) -> None:
    config = ComplianceConfig.model_validate({"database": "c.sqlite", "metadata": RULES})
    assert config.database_url(tmp_path) == str(tmp_path / "c.sqlite")


def test_a_config_file_with_another_scheme_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    data = {
        "path": str(tmp_path / "data"),
        "models": {"h": {"provider": "hash", "dimensions": 8}},
        "default_model": "h",
        "vector_store": {"kind": "numpy"},
        "keyword_store": {"kind": None},
        "compliance": {"database": "mysql://x", "metadata": RULES},
    }
    with pytest.raises(
        ConfigurationError, match=r"compliance\.database: unsupported database URL scheme 'mysql'"
    ):
        parse_config(data)
    assert not (tmp_path / "data").exists()
