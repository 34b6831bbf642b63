"""Every cookbook notebook runs top to bottom on the embedded default, with no keys and no network.

Notebooks are committed with their outputs stripped; this test executes a copy in a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

COOKBOOK = Path(__file__).resolve().parents[2] / "cookbook"
NOTEBOOKS = sorted(COOKBOOK.glob("*.ipynb"))


def test_the_cookbook_has_notebooks() -> None:
    assert NOTEBOOKS, f"no notebooks under {COOKBOOK}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = nbformat.read(path, as_version=4)
    prose = sum(1 for c in nb.cells if c.cell_type == "markdown")
    assert prose >= 3, f"{path.name}: a cookbook notebook teaches, with prose between its cells"
    monkeypatch.chdir(tmp_path)
    env_keys = [k for k in os.environ if k.endswith("_API_KEY")]
    for key in env_keys:  # prove no hosted service is needed
        monkeypatch.delenv(key)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        allow_errors=False,
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    ran = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in ran), "every code cell ran"
