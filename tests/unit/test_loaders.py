import json
from pathlib import Path

import pytest

from vectorrouter.errors import InvalidRecord
from vectorrouter.loaders import chunk_markdown, load_path


def test_markdown_is_split_at_headings_with_section_metadata() -> None:
    text = "intro line\n\n# Title\nbody one\n\n## Part\nbody two\n## Part\nagain\n"
    recs = chunk_markdown(text, source="guide.md")
    assert [r.id for r in recs] == ["guide.md#top", "guide.md#title", "guide.md#part", "guide.md#part-1"]
    assert recs[1].text == "Title\n\nbody one"
    assert recs[2].metadata == {"source": "guide.md", "section": "Part"}


def test_long_sections_split_at_paragraphs_under_the_limit() -> None:
    paras = [f"paragraph {i} " + "word " * 40 for i in range(6)]
    recs = chunk_markdown("# Big\n" + "\n\n".join(paras), source="f.md", max_chars=500)
    assert len(recs) > 1
    assert all(len(r.text) <= 500 + len("Big\n\n") for r in recs)
    assert "".join(r.text for r in recs).count("paragraph") == 6, "no paragraph is lost or repeated"


def test_jsonl_accepts_beir_style_lines(tmp_path: Path) -> None:
    f = tmp_path / "c.jsonl"
    f.write_text(
        json.dumps({"_id": "1", "title": "T", "text": "body", "metadata": {}})
        + "\n\n"
        + json.dumps({"id": "2", "text": "plain", "metadata": {"k": 1}})
        + "\n"
    )
    recs = load_path(f)
    assert [(r.id, r.text, dict(r.metadata)) for r in recs] == [
        ("1", "T\nbody", {"title": "T"}),
        ("2", "plain", {"k": 1}),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "c.jsonl:1: not valid JSON"),
        ("[1]", "must be a JSON object"),
        ('{"text": "x"}', "missing 'id'"),
        ('{"id": "1", "metadata": {"a": {"b": 1}}}', "c.jsonl:1: metadata\\['a'\\]"),
    ],
)
def test_bad_jsonl_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    f = tmp_path / "c.jsonl"
    f.write_text(line + "\n")
    with pytest.raises(InvalidRecord, match=message):
        load_path(f)


def test_folder_loads_text_files_recursively_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.md").write_text("# X\nx")
    (tmp_path / "a.txt").write_text("plain text")
    (tmp_path / "ignored.bin").write_bytes(b"\0")
    assert [r.id for r in load_path(tmp_path)] == ["a.txt#top", "b/x.md#x"]


def test_missing_or_empty_paths_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidRecord, match="does not exist"):
        load_path(tmp_path / "nope")
    with pytest.raises(InvalidRecord, match="holds no .jsonl"):
        load_path(tmp_path)
