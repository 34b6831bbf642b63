"""The runnable examples in the compliance docstrings stay true."""

import doctest
import importlib

import pytest

MODULES = [
    "vectorrouter.compliance._db",
    "vectorrouter.compliance.allowlist",
    "vectorrouter.compliance.audit",
    "vectorrouter.compliance.core",
    "vectorrouter.compliance.erasure",
    "vectorrouter.compliance.index",
    "vectorrouter.compliance.keys",
    "vectorrouter.compliance.residency",
    "vectorrouter.compliance.vault",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


def test_public_names_are_pinned_and_sorted() -> None:
    import vectorrouter.compliance as c

    assert c.__all__ == sorted(c.__all__)
    assert all(hasattr(c, n) for n in c.__all__)
