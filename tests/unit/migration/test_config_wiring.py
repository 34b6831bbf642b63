from pathlib import Path

import pytest

from vectorrouter.config import parse_config
from vectorrouter.errors import ConfigurationError
from vectorrouter.migration import MigrationResolver, RedisStateStore


def test_config_migration_section_selects_the_state_store(tmp_path: Path) -> None:
    base = {"models": {"h": {"provider": "hash", "dimensions": 16}}, "default_model": "h"}
    base |= {"vector_store": {"kind": "numpy"}, "keyword_store": {"kind": None}}
    file_cfg = parse_config({**base, "path": str(tmp_path)})
    with file_cfg.build() as router:
        assert isinstance(router.resolver, MigrationResolver)
        assert router.resolver.store.directory == tmp_path / "migrations"  # type: ignore[attr-defined]
    redis_cfg = parse_config(
        {**base, "path": None, "migration": {"state": "redis", "redis_url": "redis://127.0.0.1:1/0"}}
    )
    with redis_cfg.build() as router:  # connecting is lazy: building never needs the server
        assert isinstance(router.resolver, MigrationResolver)
        assert isinstance(router.resolver.store, RedisStateStore)
    with pytest.raises(ConfigurationError, match="migration.state"):
        parse_config({**base, "migration": {"state": "etcd"}})
