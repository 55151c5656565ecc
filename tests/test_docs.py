"""The README stays true: its commands exist, its settings are the ones the code reads."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from archivist.cli import app
from archivist.config import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_quick_start_is_make_run_and_make_test() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make run" in quick_start
    assert "make test" in quick_start


def test_every_documented_command_exists() -> None:
    documented = set(re.findall(r"^\| `archivist ([a-z-]+(?: [a-z-]+)?)", README, flags=re.MULTILINE))
    assert documented, "the README's command table is missing"
    runner = CliRunner()
    for command in documented:
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, f"`archivist {command}` is documented but does not exist"


def _subcommands(*path: str) -> set[str]:
    listed = CliRunner().invoke(app, [*path, "--help"], terminal_width=200).output
    return set(re.findall(r"^│ ([a-z][a-z-]*) ", listed, flags=re.MULTILINE))


def test_every_cli_command_is_documented() -> None:
    commands = _subcommands()
    assert commands
    for command in commands:
        # A group (user, token, …) is documented through each of its subcommands.
        names = [f"{command} {sub}" for sub in _subcommands(command)] or [command]
        for name in names:
            assert f"`archivist {name}" in README, f"`archivist {name}` is not in the README"


def test_documented_settings_are_the_real_ones() -> None:
    documented = set(re.findall(r"^\| `ARCHIVIST_([A-Z_]+)`", README, flags=re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    # S3_ENDPOINT_URL is read by the blob store factory, not by Settings.
    assert documented - {"S3_ENDPOINT_URL"} <= fields
    assert fields <= documented


def test_linked_docs_exist() -> None:
    for target in re.findall(r"\]\((docs/[^)]+)\)", README):
        assert (ROOT / target).exists(), target


def test_every_cited_contract_section_is_in_docs() -> None:
    # The code cites "CONTRACT §n" for why it does what it does; the contract lives in docs/.
    sections = set(re.findall(r"^#+ (\d+)\. ", (ROOT / "docs" / "contract.md").read_text(), flags=re.MULTILINE))
    assert {str(n) for n in range(1, 21)} <= sections
    cited: dict[str, set[str]] = {}
    for path in [*ROOT.glob("src/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py"), ROOT / "README.md"]:
        for number in re.findall(r"CONTRACT §(\d+)", path.read_text(encoding="utf-8")):
            cited.setdefault(number, set()).add(str(path.relative_to(ROOT)))
    assert cited, "nothing cites the contract?"
    missing = {number: sorted(paths) for number, paths in cited.items() if number not in sections}
    assert missing == {}
    assert "(docs/contract.md)" in README
