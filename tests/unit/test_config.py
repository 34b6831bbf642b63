from pathlib import Path

import pytest

from vectorrouter.config import CONFIG_TEMPLATE, load_config, parse_config
from vectorrouter.errors import ConfigurationError


def test_the_init_template_validates(tmp_path: Path) -> None:
    (tmp_path / "vectorrouter.toml").write_text(CONFIG_TEMPLATE)
    cfg = load_config(tmp_path / "vectorrouter.toml")
    assert cfg.models["minilm-l6"].dimensions == 384
    assert cfg.path == str((tmp_path / ".vectorrouter").resolve())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"models": {"m": {"provider": "hash", "dimenions": 8}}, "default_model": "m"},
            "models.m.dimenions: unknown key. Fix: did you mean 'dimensions'",
        ),
        (
            {"models": {"m": {"provider": "hash"}}, "default_model": "m"},
            "models.m.dimensions: required but missing",
        ),
        (
            {"models": {"m": {"provider": "hash", "dimensions": 0}}, "default_model": "m"},
            "models.m.dimensions: Input should be greater than 0",
        ),
        ({"default_model": "nope"}, "default_model 'nope' is not declared"),
        ({"vector_stor": {}}, "vector_stor: unknown key. Fix: did you mean 'vector_store'"),
        ({"namespaces": {"acme:docs": {"model": "x"}}}, "namespaces.acme:docs.model 'x' is not declared"),
        (
            {"models": {"h:0": {"provider": "hash", "dimensions": 8}}, "default_model": "h:0"},
            "models.h:0: a model version appears in namespace names",
        ),
        (
            {"namespaces": {"acme:support:minilm-l6": {"model": "minilm-l6"}}},
            "namespaces.acme:support:minilm-l6: name the namespace without its version (tenant:feature)",
        ),
        (
            {"models": {"m": {"provider": "hash", "dimensions": 8, "metric": "l2"}}, "default_model": "m"},
            "models.m.metric",
        ),
    ],
)
def test_bad_configuration_is_reported_by_field_with_the_fix(data: dict, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_config(data)
    assert message in str(info.value)


def test_unknown_store_kind_lists_the_known_ones(tmp_path: Path) -> None:
    cfg = parse_config(
        {
            "path": None,
            "models": {"m": {"provider": "hash", "dimensions": 8}},
            "default_model": "m",
            "vector_store": {"kind": "faiss"},
            "keyword_store": {"kind": None},
        }
    )
    with pytest.raises(ConfigurationError, match="vector_store.kind: unknown store kind 'faiss'.*numpy"):
        cfg.build().search  # noqa: B018


def test_missing_file_suggests_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="vectorrouter init"):
        load_config(tmp_path / "absent.toml")


def test_invalid_toml_is_a_configuration_error(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("path = \n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_config(p)
