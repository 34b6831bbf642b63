"""The class docstrings' examples run, in order, as a user would paste them."""

import re

import pytest

from langchain_vectorrouter import VectorRouterRetriever, VectorRouterStore

_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("cls", [VectorRouterStore, VectorRouterRetriever])
def test_every_python_block_of_the_class_docstring_runs(
    cls: type, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = cls.__doc__ or ""
    blocks = [re.sub(r"(?m)^ {8}", "", b) for b in _BLOCK.findall(doc)]
    assert len(blocks) >= 3, "Instantiate, Search with filter and Use as retriever at least"
    for section in ("Setup:", "Instantiate:", "Search with filter:", "Use as retriever:"):
        assert section in doc
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, f"<{cls.__name__} docstring>", "exec"), namespace)
    capsys.readouterr()
