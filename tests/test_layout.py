"""The house rules a newcomer relies on: the flow in folders, imports one way, small rooms, a README for users."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vru_model"
STAGES = ["core", "scenario", "model", "solving", "analysis", "present", "apps"]
MODULE_LINES = 700
FUNCTION_LINES = 100
README_LINES = 250


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_import_contract_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Layers scenario -> model -> solving -> analysis -> present -> apps, and no cycle anywhere (pyproject.toml)."""
    monkeypatch.chdir(ROOT)
    assert lint_imports(no_cache=True) == 0


def test_the_flow_is_in_folders() -> None:
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()) == sorted(STAGES)
    assert len(list(PACKAGE.glob("*.py"))) <= 8


def test_tests_mirror_the_package() -> None:
    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name not in {"fixtures", "__pycache__"}}
    assert folders <= set(STAGES), folders - set(STAGES)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_room_is_too_big(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") <= MODULE_LINES, f"{path.name}: {text.count(chr(10))} lines"
    long = [f"{n.name} ({n.end_lineno - n.lineno + 1} lines)" for n in ast.walk(ast.parse(text))
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.end_lineno - n.lineno + 1 > FUNCTION_LINES]
    assert not long, f"{path.name}: {', '.join(long)}"


def test_the_readme_is_for_users() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count("\n") <= README_LINES
    for heading in ("Quickstart", "Commands", "Scenarios"):
        assert re.search(rf"^##+ .*{heading}", readme, re.M | re.I), heading


NARRATION = re.compile(r"\b(this|that|last|previous|next|earlier|(first|second|third|fourth|fifth|sixth|seventh|eighth|"
                       r"ninth|tenth)) session\b|in a review\b|DESIGN(\.md)? section", re.I)


def test_nothing_narrates_how_it_was_developed() -> None:
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "benchmarks").rglob("*"), *_modules(),
             *(ROOT / "tests").rglob("*.py"), *(ROOT / "notebooks").glob("*.ipynb")]
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in files if p.is_file() and p != Path(__file__)
             for m in NARRATION.finditer(p.read_text(encoding="utf-8", errors="replace"))]
    assert not found, found[:10]
