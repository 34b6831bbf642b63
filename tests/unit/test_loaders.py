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


def test_a_file_that_is_not_utf8_is_named_with_its_line_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# fine\n\nplain text\n", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes("first line\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(InvalidRecord) as caught:
        load_path(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path / 'b.txt'}:2: not UTF-8 text (byte 0xe9" in message
    assert "Fix: convert the file to UTF-8" in message


def test_a_jsonl_line_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    f = tmp_path / "c.jsonl"
    good = json.dumps({"id": "1", "text": "ok"}).encode()
    f.write_bytes(good + b"\n" + good.replace(b"ok", b"\xff") + b"\n")
    with pytest.raises(InvalidRecord, match=r"c\.jsonl:2: not UTF-8 text \(byte 0xff"):
        load_path(f)


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"\xef\xbb\xbfhello there")
    (tmp_path / "c.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "x", "text": "hi"}).encode())
    by_id = {r.id: r for r in load_path(tmp_path)}
    assert by_id["notes.txt#top"].text == "hello there"
    assert by_id["x"].text == "hi"


def test_json_text_holding_a_line_separator_stays_one_record(tmp_path: Path) -> None:
    f = tmp_path / "c.jsonl"
    # json.dumps with ensure_ascii=False leaves U+2028 unescaped: valid JSON that splitlines() would cut
    f.write_text(json.dumps({"id": "1", "text": "a\u2028b"}, ensure_ascii=False) + "\n", encoding="utf-8")
    [record] = load_path(f)
    assert record.text == "a\u2028b"


def test_windows_and_old_mac_line_ends_read_as_lines(tmp_path: Path) -> None:
    line = json.dumps({"id": "{}", "text": "t"})
    (tmp_path / "c.jsonl").write_bytes(
        (line.replace("{}", "1") + "\r\n" + line.replace("{}", "2") + "\r" + line.replace("{}", "3")).encode()
    )
    (tmp_path / "d.md").write_bytes(b"# One\r\nfirst\r\n# Two\rsecond\r")
    by_id = {r.id: r.text for r in load_path(tmp_path)}
    assert by_id == {"1": "t", "2": "t", "3": "t", "d.md#one": "One\n\nfirst", "d.md#two": "Two\n\nsecond"}


def test_a_folder_skips_hidden_paths_and_names_the_files_it_leaves_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "guide.md").write_text("# Guide\nread me")
    (tmp_path / "NOTES.TXT").write_text("shouting suffix")
    for hidden in (".venv/lib/LICENSE.txt", ".git/description.md", "sub/.draft.md"):
        (tmp_path / hidden).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / hidden).write_text("not content")
    for i in range(7):
        (tmp_path / f"scan{i}.pdf").write_bytes(b"%PDF")
    with caplog.at_level("WARNING", logger="vectorrouter.loaders"):
        records = load_path(tmp_path)
    assert [r.id for r in records] == ["NOTES.TXT#top", "guide.md#guide"]
    [warning] = caplog.messages
    assert "left out 7 file(s) that are not .jsonl / .markdown / .md / .rst / .txt" in warning
    assert "scan0.pdf, scan1.pdf, scan2.pdf, scan3.pdf, scan4.pdf and 2 more" in warning


def test_a_folder_with_only_hidden_text_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "a.md").write_text("# A\nx")
    with pytest.raises(
        InvalidRecord, match=r"holds no \.jsonl, \.md or \.txt files \(hidden ones are not read\)"
    ):
        load_path(tmp_path)


@pytest.mark.parametrize(("metadata", "kind"), [("lang=en", "str"), ([["lang", "en"]], "list"), (5, "int")])
def test_jsonl_metadata_that_is_not_an_object_names_the_line(
    tmp_path: Path, metadata: object, kind: str
) -> None:
    f = tmp_path / "c.jsonl"
    f.write_text(json.dumps({"id": "1", "text": "ok"}) + "\n" + json.dumps({"id": "2", "metadata": metadata}))
    with pytest.raises(
        InvalidRecord, match=rf"c\.jsonl:2: metadata must be a mapping of str to values, got {kind}"
    ):
        load_path(f)


@pytest.mark.parametrize("rid", [{"n": 1}, True, [1]])
def test_a_jsonl_id_that_is_not_a_string_or_an_integer_names_the_line(tmp_path: Path, rid: object) -> None:
    f = tmp_path / "c.jsonl"
    f.write_text(json.dumps({"id": 3, "text": "ok"}) + "\n" + json.dumps({"id": rid, "text": "x"}))
    with pytest.raises(InvalidRecord, match=r"c\.jsonl:2: 'id' must be a string \(or an integer\)"):
        load_path(f)
