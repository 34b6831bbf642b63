"""Turn files into records: JSONL (one record per line) or a folder of text/markdown split into chunks.

Markdown is split at headings, then long sections at paragraph boundaries, so each chunk is a coherent
passage that carries its file and section as metadata.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vectorrouter.errors import InvalidRecord
from vectorrouter.types import Record, id_text, validate_metadata

__all__ = ["chunk_markdown", "load_path"]

log = logging.getLogger("vectorrouter.loaders")

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".rst"}
LOADABLE = {*TEXT_SUFFIXES, ".jsonl"}  # compared in lower case: README.MD loads too


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _split_long(text: str, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    parts: list[str] = []
    current = ""
    for para in re.split(r"\n\s*\n", text):
        if current and len(current) + len(para) + 2 > max_chars:
            parts.append(current)
            current = para
        else:
            current = f"{current}\n\n{para}" if current else para
    if current:
        parts.append(current)
    return parts


def chunk_markdown(text: str, *, source: str, max_chars: int = 1200) -> list[Record]:
    """Split markdown into section chunks with ids ``source#section[-n]``.

    >>> [r.id for r in chunk_markdown("# A\\nx\\n## B\\ny", source="f.md")]
    ['f.md#a', 'f.md#b']
    """
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m:
            sections.append((m.group(2), []))
        else:
            sections[-1][1].append(line)
    out: list[Record] = []
    seen: dict[str, int] = {}
    for heading, lines in sections:
        body = "\n".join(lines).strip()
        if not body:
            continue
        for piece in _split_long(body, max_chars):
            base = f"{source}#{_slug(heading) if heading else 'top'}"
            n = seen.get(base, 0)
            seen[base] = n + 1
            text_with_heading = f"{heading}\n\n{piece}" if heading else piece
            md: dict[str, Any] = {"source": source}
            if heading:
                md["section"] = heading
            out.append(Record(id=base if n == 0 else f"{base}-{n}", text=text_with_heading, metadata=md))
    return out


def _read_text(path: Path) -> str:
    """A file's text (UTF-8, a leading byte-order mark dropped, line ends as ``\\n``), or an error naming the
    file and the line."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidRecord(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded); nothing was "
            "loaded. Fix: convert the file to UTF-8 (e.g. `iconv -f latin1 -t utf-8`) or leave it out"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as open() in text mode reads line ends


def _jsonl(path: Path) -> Iterator[Record]:
    # split on "\n" only: JSON text may hold U+2028 and friends, which splitlines() would break at
    for lineno, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidRecord(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InvalidRecord(f"{path}:{lineno}: each line must be a JSON object")
        rid = obj.get("id", obj.get("_id"))
        if rid is None:
            raise InvalidRecord(f"{path}:{lineno}: missing 'id' (or BEIR '_id')")
        record_id = id_text(rid)
        if record_id is None:
            raise InvalidRecord(f"{path}:{lineno}: 'id' must be a string (or an integer), got {rid!r}")
        title = obj.get("title") or ""
        text = obj.get("text", "")
        try:
            md = validate_metadata(obj.get("metadata"))  # an object, or InvalidRecord naming the type
            if title:
                md.setdefault("title", title)
            yield Record(id=record_id, text=f"{title}\n{text}" if title else text, metadata=md)
        except InvalidRecord as exc:
            raise InvalidRecord(f"{path}:{lineno}: {exc}") from None


def load_path(path: str | Path, *, max_chars: int = 1200) -> list[Record]:
    """Records from a ``.jsonl`` file, a text/markdown file, or a folder of them (recursively, sorted).

    In a folder, hidden files and folders are skipped and other file types are left out with a warning
    naming them."""
    p = Path(path)
    if not p.exists():
        raise InvalidRecord(f"{p} does not exist")
    if p.is_dir():
        files: list[Path] = []
        skipped: list[Path] = []
        for f in sorted(p.rglob("*")):
            if not f.is_file() or any(part.startswith(".") for part in f.relative_to(p).parts):
                continue  # hidden files and folders (.git, .venv, .vectorrouter) are never content
            (files if f.suffix.lower() in LOADABLE else skipped).append(f)
        if skipped:
            shown = ", ".join(f.relative_to(p).as_posix() for f in skipped[:5])
            more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
            log.warning(
                "%s: left out %d file(s) that are not %s: %s%s",
                p,
                len(skipped),
                " / ".join(sorted(LOADABLE)),
                shown,
                more,
            )
        if not files:
            raise InvalidRecord(f"{p} holds no .jsonl, .md or .txt files (hidden ones are not read)")
        out: list[Record] = []
        for f in files:
            out.extend(_load_file(f, p, max_chars))
        return out
    return _load_file(p, p.parent, max_chars)


def _load_file(f: Path, root: Path, max_chars: int) -> list[Record]:
    suffix = f.suffix.lower()
    if suffix == ".jsonl":
        return list(_jsonl(f))
    if suffix in TEXT_SUFFIXES:
        return chunk_markdown(_read_text(f), source=f.relative_to(root).as_posix(), max_chars=max_chars)
    raise InvalidRecord(f"{f}: unsupported file type {f.suffix!r}; use .jsonl, .md or .txt")
