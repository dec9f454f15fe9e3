"""The repository carries its own design: every document a file cites is in the repository.

Code and docs cite `docs/*.md` (and other repository files); a citation of a design document
kept elsewhere (`../shared/...`, `ARCHITECTURE §n`, a reference `*.md` that is not here) would
send a reader to a file they do not have."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".conf", ".acl", ".rules", ".service", ".sh",
                 ".kv", ".html", ".js", ".css", ".json", ".cfg", ".ini", ".yml", ".yaml", ""}

OUTSIDE = re.compile(r"\.\./shared|/work/shared|\bARCHITECTURE\b|\bHOUSE-STYLE\b")
MD_NAME = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.md)\b")


def repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    return [f for f in listed if f and (ROOT / f).is_file()]


def citations(text: str) -> list[str]:
    """The `*.md` names and paths a text mentions."""
    return MD_NAME.findall(text)


def broken(root: Path, files: list[str]) -> list[str]:
    names = {Path(f).name for f in files}
    paths = set(files)
    found: list[str] = []
    for f in files:
        if f == SELF or Path(f).suffix not in TEXT_SUFFIXES:
            continue
        try:
            text = (root / f).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{f}:{number}: cites a document outside the repository: {line}")
            for cited in citations(line):
                ok = cited in paths if "/" in cited else cited in names
                if not ok:
                    found.append(f"{f}:{number}: cites {cited}, which is not in the repository")
    return found


def test_every_cited_document_is_in_the_repository() -> None:
    files = repository_files()
    assert "docs/architecture.md" in files and "docs/card.md" in files
    assert broken(ROOT, files) == []


def test_the_check_catches_outside_citations(tmp_path: Path) -> None:
    assert citations("see docs/card.md §2.3 and face.md §1") == ["docs/card.md", "face.md"]
    assert citations("README.md, drivers/fingerprint/README.md") == [
        "README.md",
        "drivers/fingerprint/README.md",
    ]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "card.md").write_text("# card\n")
    (tmp_path / "a.py").write_text(
        '"""After docs/card.md §2 (fine), docs/ghost.md §1 and ssc-card.md §3."""\n'
        "# from ../shared/reference/face.md\n"
        "X = 1  # ARCHITECTURE §9\n"
    )
    found = broken(tmp_path, ["docs/card.md", "a.py"])
    assert len(found) == 5, found
    assert any("a.py:1: cites docs/ghost.md" in f for f in found)
    assert any("a.py:1: cites ssc-card.md" in f for f in found)
    assert any("a.py:2: cites a document outside" in f for f in found)
    assert any("a.py:2: cites ../shared/reference/face.md" in f for f in found)
    assert any("a.py:3: cites a document outside" in f for f in found)
