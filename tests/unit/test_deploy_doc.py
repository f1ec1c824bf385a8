"""docs/deploy.md cannot drift: every `flask ...` command (with its --options) and every
FORUM_* variable it names exists in the code."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup

from config import ALIASES, CONFIGS
from forum import create_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"

#: Names that other branches of issue 11 add (search backend, page cache, delayed index
#: writes); tolerated until they are merged. The lead empties this list at merge.
FROM_PARALLEL_WORK: list[str] = []

#: Read by create_app itself rather than through config.py.
FACTORY_VARIABLES = {"FORUM_ENV", "FORUM_INSTANCE_PATH"}
#: Read by the test suite (tests/support.py), named where the doc shows how to run the proof.
TEST_SUPPORT = Path(__file__).resolve().parents[1] / "support.py"

# A command in code: "flask" (after a space, a slash, a backtick or a dash, as in
# ".venv/bin/flask" or the "forum-flask" wrapper), a command or group and an optional
# subcommand, then the rest of the command up to a shell operator or the end of the code.
COMMAND = re.compile(r"(?:^|[\s/`-])flask((?:\s+[a-z][a-z-]*){1,2})([^`|;&>#\n]*)")


def _code(text: str) -> list[str]:
    """The code in ``text``: fenced blocks and inline spans (commands in prose are not checked)."""
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, re.S)
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return blocks + re.findall(r"`([^`\n]+)`", prose)


def _commands() -> list[tuple[list[str], list[str]]]:
    """Each distinct (command words, options) named in the doc's code."""
    found: dict[tuple[tuple[str, ...], tuple[str, ...]], None] = {}
    for code in _code(DOC.read_text()):
        for line in code.splitlines():
            for words, rest in COMMAND.findall(line):
                found[(tuple(words.split()), tuple(re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest)))] = None
    return [(list(words), list(options)) for words, options in found]


def _variables() -> set[str]:
    return set(re.findall(r"\bFORUM_[A-Z0-9_]*[A-Z0-9]", DOC.read_text()))


def _tolerated(name: str) -> bool:
    return any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in FROM_PARALLEL_WORK)


def test_the_doc_names_commands_and_variables() -> None:
    """The checks below would pass vacuously on a doc the patterns no longer read."""
    commands = {" ".join(words) for words, _ in _commands()}
    assert {"jobs worker", "db upgrade", "notifications digest", "mail retry"} <= commands
    assert {"FORUM_SECRET_KEY", "FORUM_REDIS_URL", "FORUM_PROXY_FIX_X_FOR"} <= _variables()


@pytest.mark.parametrize(("words", "options"), _commands(), ids=lambda v: " ".join(v) if v else "-")
def test_every_flask_command_in_the_doc_exists(words: list[str], options: list[str], tmp_path: Path) -> None:
    cli = FlaskGroup(create_app=lambda: create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    result = CliRunner().invoke(cli, [*words, "--help"])
    assert result.exit_code == 0, f"`flask {' '.join(words)}` does not exist:\n{result.output}"
    for option in options:
        assert re.search(rf"(?<![\w-]){re.escape(option)}\b", result.output), \
            f"`flask {' '.join(words)}` has no {option}"


def test_every_forum_variable_in_the_doc_is_a_setting() -> None:
    settings = {name for config in CONFIGS.values() for name in dir(config) if name.isupper()}
    test_support = TEST_SUPPORT.read_text()
    unknown = sorted(
        name for name in _variables()
        if name not in ALIASES and name not in FACTORY_VARIABLES and name[len("FORUM_"):] not in settings
        and not (name.startswith("FORUM_TEST_") and f'"{name}"' in test_support)
        and not _tolerated(name))
    assert not unknown, f"docs/deploy.md names settings that do not exist: {unknown}"
