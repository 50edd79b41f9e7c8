"""Property-based tests over the answers people type: whatever the
validators accept renders into files that parse and keep the text inert;
whatever they refuse gets a message, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from helpers import generate, invoke
from mlops_scaffold.pipelines.check import check_repository
from mlops_scaffold.template import asked_questions

pytestmark = pytest.mark.e2e  # property suites that render many projects

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=120,
).filter(lambda s: s.strip())


@SETTINGS
@given(description=TEXT, author=TEXT.filter(lambda s: len(s) <= 100))
def test_accepted_text_stays_data(tmp_path_factory, description, author):
    destination = tmp_path_factory.mktemp("prop") / "p"
    project = generate(
        destination, git=False, ci_provider="both", iac="both",
        description=description, author_name=author,
    )  # fmt: skip
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == description
    assert pyproject["project"]["authors"][0]["name"] == author
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["description"] == description
    assert answers["author_name"] == author
    for path in [*project.glob(".github/**/*.yml"),
                 *project.glob("azure-pipelines/**/*.yml")]:  # fmt: skip
        text = path.read_text()
        yaml.safe_load(text)
        # User text never reaches a pipeline (checked where it is long
        # enough to be told apart from the file's own words).
        for value in (description, author):
            if len(value.strip()) >= 12:
                assert value not in text, (path, value)
    # Every pipeline still passes its provider's JSON schema and the
    # pipeline rules (`mlops-scaffold check`).
    assert check_repository(project) == []


@SETTINGS
@given(value=st.text(max_size=80), key=st.sampled_from(
    ["project_name", "package_name", "project_slug", "author_email",
     "default_branch", "staging_environment", "code_owners"]
))  # fmt: skip
def test_any_text_is_accepted_or_refused_with_a_message(
    tmp_path_factory, key, value
):
    destination = tmp_path_factory.mktemp("any") / "p"
    result = invoke("new", destination, "--defaults", "--no-git",
                    "--data", f"{key}={value}")  # fmt: skip
    assert result.exit_code in (0, 2), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if result.exit_code == 2:
        assert result.stderr.startswith("Error: ")
        assert not Path(destination).exists()


# ------------------------------------------------------------------- `new`
# Hostile answers, answer files and destinations, run through the installed
# command in a subprocess (an in-process runner would catch a traceback).
TOOL = [str(Path(sys.executable).parent / "mlops-scaffold")]
NEW_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
#: What argv can carry: any text without NUL or lone surrogates.
ARGV_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",),
                           blacklist_characters="\x00"),
    max_size=60,
)  # fmt: skip
HOSTILE_VALUES = st.one_of(
    ARGV_TEXT,
    st.sampled_from(["", " ", "re", "email", "pytest", "a" * 300, "2.7",
                     "two", "maybe", "-1", "1e9", "[1, 2]", "{a: b}", "!!x",
                     "*alias", "&a x", "null", "~", "'", '"', "\\", "$(id)",
                     "${{ secrets.X }}", "[[ 7*7 ]]", "[% raw %]"]),
)  # fmt: skip
YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ARGV_TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(ARGV_TEXT, inner, max_size=3)
    ),
    max_leaves=8,
)


def _destination_state(tmp: Path, kind: str, name: str) -> Path:
    """A destination in an awkward state (what a user might point at)."""
    destination = tmp / "work" / name
    if kind == "file":
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text("mine\n")
    elif kind == "dangling-link":
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.symlink_to(tmp / "nowhere")
    elif kind == "non-empty":
        destination.mkdir(parents=True)
        (destination / "notes.txt").write_text("mine\n")
    elif kind == "file-as-parent":
        (tmp / "work").mkdir(exist_ok=True)
        (tmp / "work" / "blocker").write_text("mine\n")
        destination = tmp / "work" / "blocker" / name
    elif kind == "empty":
        destination.mkdir(parents=True)
    return destination


def _disk(folder: Path) -> dict[str, bytes | str]:
    """Every path below ``folder`` (links by target), to compare states."""
    state: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            state[key] = f"-> {os.readlink(path)}"
        elif path.is_file():
            state[key] = path.read_bytes()
        else:
            state[key] = "dir"
    return state


@NEW_SETTINGS
@given(
    answers=st.dictionaries(
        st.sampled_from(sorted(asked_questions())), HOSTILE_VALUES,
        max_size=3,
    ),
    file_answers=st.none() | YAML_VALUES | st.binary(max_size=64),
    kind=st.sampled_from(["missing", "empty", "file", "dangling-link",
                          "non-empty", "file-as-parent"]),
    name=st.one_of(
        st.sampled_from(["fraud-model", "class", "re", "123", "-x", "a" * 256,
                         ".hidden", "Zoë 李", "a b", "ünïcode"]),
        ARGV_TEXT.filter(lambda s: s.strip() and "/" not in s
                         and s not in (".", "..")),
    ),
)  # fmt: skip
def test_new_survives_hostile_answers_and_destinations(
    tmp_path_factory, answers, file_answers, kind, name
):
    tmp = tmp_path_factory.mktemp("hostile")
    try:
        destination = _destination_state(tmp, kind, name)
    except OSError:  # the file system refuses the name itself
        return
    args = [*TOOL, "new", str(destination), "--defaults", "--no-git"]
    for key, value in answers.items():
        args += ["--data", f"{key}={value}"]
    if file_answers is not None:
        data_file = tmp / "answers.yml"
        if isinstance(file_answers, bytes):
            data_file.write_bytes(file_answers)
        else:
            data_file.write_text(yaml.safe_dump(file_answers))
        args += ["--data-file", str(data_file)]
    before = _disk(tmp)
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode in (0, 1, 2, 130), output
    assert "Traceback" not in output
    if result.returncode == 0:
        assert (destination / ".copier-answers.yml").is_file()
        return
    # A message that says what is wrong and what to do about it...
    assert result.stderr.startswith(("Error:", "Usage:")), output
    assert "hint:" in result.stderr or "Usage:" in result.stderr, output
    # ...and nothing left on disk: no staging folder, no half project.
    assert _disk(tmp) == before
