"""`mlops-scaffold new`: what it writes, and what it refuses to write."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
import yaml
from test_bad_input import alias_bomb

from conftest import REPO
from helpers import generate, git, invoke, snapshot
from mlops_scaffold import __version__, render
from mlops_scaffold.render import repository_url
from mlops_scaffold.template_branch import TEMPLATE_BRANCH


def test_defaults_make_a_committed_repository(tmp_path: Path):
    result = invoke("new", tmp_path / "fraud-model", "--defaults")
    project = tmp_path / "fraud-model"
    assert result.exit_code == 0, result.stderr
    assert "Fraud Model" in result.stdout
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-list", "--count", "HEAD") == "1"
    assert git(project, "rev-parse", "HEAD") == git(
        project, "rev-parse", TEMPLATE_BRANCH
    )
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "Fraud Model"
    assert answers["package_name"] == "fraud_model"
    assert answers["_src_path"] == repository_url()
    assert answers["_commit"] == f"v{__version__}"
    assert (project / "src" / "fraud_model" / "train.py").is_file()


def test_no_git_leaves_a_plain_folder(tmp_path: Path):
    result = invoke("new", tmp_path / "p", "--defaults", "--no-git")
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "p" / ".git").exists()
    assert (tmp_path / "p" / "Makefile").is_file()


def test_an_empty_existing_folder_is_filled(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    result = invoke("new", tmp_path / "empty", "--defaults")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "empty" / "pyproject.toml").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]


def test_answers_from_options_and_a_file(tmp_path: Path):
    answers = tmp_path / "answers.yml"
    answers.write_text("description: From the file\nauthor_name: Ada\n")
    result = invoke(
        "new",
        tmp_path / "card",
        "--defaults",
        "--ci",
        "both",
        "--iac",
        "terraform",
        "--data-file",
        answers,
        "--data",
        "description=Card fraud scoring",
    )
    assert result.exit_code == 0, result.stderr
    recorded = yaml.safe_load(
        (tmp_path / "card/.copier-answers.yml").read_text()
    )
    assert recorded["description"] == "Card fraud scoring"
    assert recorded["author_name"] == "Ada"
    assert recorded["ci_provider"] == "both"
    assert recorded["iac"] == "terraform"


@pytest.mark.parametrize(
    ("ci", "github", "azure"),
    [("github", True, False), ("azure", False, True), ("both", True, True)],
)
def test_the_ci_provider_decides_the_pipeline_folders(
    tmp_path, ci, github, azure
):
    project = generate(tmp_path / "p", git=False, ci_provider=ci)
    assert (project / ".github" / "workflows" / "ci.yml").is_file() == github
    assert (project / "azure-pipelines" / "ci.yml").is_file() == azure


def _non_empty(dest: Path) -> None:
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")


def _a_file(dest: Path) -> None:
    dest.write_text("not a folder")


def _bad_answers_file(dest: Path) -> None:
    (dest.parent / "answers.yml").write_text("description: [unclosed\n")


BAD_INPUTS = [
    # (id, extra arguments, set-up, exit code, words in the message)
    (
        "digits-only-package",
        ["--data", "package_name=123"],
        None,
        2,
        "not a valid Python import name",
    ),
    (
        "keyword-package",
        ["--data", "package_name=class"],
        None,
        2,
        "Python keyword",
    ),
    (
        "spaces-package",
        ["--data", "package_name=my project!"],
        None,
        2,
        "not a valid Python import name",
    ),
    (
        "digits-only-project",
        ["--data", "project_name=123"],
        None,
        2,
        "must start with a letter",
    ),
    ("unknown-key", ["--data", "colour=blue"], None, 2, "Unknown answer"),
    ("not-key-value", ["--data", "justtext"], None, 2, "KEY=VALUE"),
    ("bad-choice", ["--data", "python_version=2.7"], None, 2, "2.7"),
    (
        "bad-email",
        ["--data", "author_email=nobody"],
        None,
        2,
        "not an e-mail address",
    ),
    ("non-empty-destination", [], _non_empty, 2, "not empty"),
    ("destination-is-a-file", [], _a_file, 2, "is a file"),
    (
        "malformed-answers-file",
        ["--data-file", "{answers}"],
        _bad_answers_file,
        2,
        "not valid YAML",
    ),
    (
        "missing-answers-file",
        ["--data-file", "{missing}"],
        None,
        2,
        "nope.yml: cannot be read",
    ),
    ("bad-ci-option", ["--ci", "jenkins"], None, 2, "jenkins"),
    *[
        (
            f"alias-bomb-{name}",
            ["--data", f"{name}={alias_bomb()}"],
            None,
            2,
            f"--data, answer {name}:1: expands to more than",
        )
        for name in ("sprint_length_weeks", "retrain_on_drift")
    ],
]


def test_a_fifo_as_data_file_is_refused_without_blocking(tmp_path: Path):
    fifo = tmp_path / "answers.yml"
    os.mkfifo(fifo)
    result = invoke(
        "new", tmp_path / "p", "--defaults", "--data-file", str(fifo)
    )
    assert result.exit_code == 2, result.stderr
    assert f"{fifo}: is not a regular file" in result.stderr
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    ("extra", "setup", "code", "words"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(
    tmp_path: Path, extra, setup, code, words
):
    dest = tmp_path / "project"
    if setup:
        setup(dest)
    before = snapshot(tmp_path)
    args = [
        a.format(
            answers=tmp_path / "answers.yml", missing=tmp_path / "nope.yml"
        )
        for a in extra
    ]
    result = invoke("new", dest, "--defaults", *args)
    assert result.exit_code == code, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot(tmp_path) == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_keyword_derived_from_the_folder_name_is_refused(tmp_path: Path):
    result = invoke("new", tmp_path / "class", "--defaults")
    assert result.exit_code == 2
    assert "package_name" in result.stderr and "keyword" in result.stderr
    assert not (tmp_path / "class").exists()


def test_no_terminal_and_no_defaults_is_a_usage_error(tmp_path: Path):
    result = invoke("new", tmp_path / "p")
    assert result.exit_code == 2
    assert "--defaults" in result.stderr
    assert not (tmp_path / "p").exists()


def test_the_readme_example_works_as_written_outside_a_terminal(
    tmp_path: Path,
):
    """README.md's example passes --defaults; without it the message says
    to add exactly that."""
    readme = (REPO / "README.md").read_text()
    line = next(
        line.strip()
        for line in readme.replace("\\\n", " ").splitlines()
        if line.startswith("mlops-scaffold new fraud-model --ci both")
    )
    words = shlex.split(line, comments=True)[2:]
    asked = [w for w in words if w != "--defaults"]
    refused = invoke("new", tmp_path / "p", *asked[1:])
    assert refused.exit_code == 2
    assert "add --defaults to the same command" in refused.stderr
    result = invoke("new", tmp_path / "fraud-model", *words[1:], "--no-git")
    assert result.exit_code == 0, result.stderr
    answers = yaml.safe_load(
        (tmp_path / "fraud-model" / ".copier-answers.yml").read_text()
    )
    assert (answers["ci_provider"], answers["iac"]) == ("both", "terraform")


def test_the_next_lines_name_a_placeholder_code_owner(tmp_path: Path):
    placeholder = invoke(
        "new", tmp_path / "fraud-model", "--defaults", "--no-git"
    )
    assert placeholder.exit_code == 0, placeholder.stderr
    assert (
        "Next: .github/CODEOWNERS names @fraud-model-ml, a placeholder owner"
        in placeholder.stdout
    )
    assert (
        "`mlops-scaffold update --data code_owners=@ORG/TEAM "
        "--data platform_owners=@ORG/TEAM`" in placeholder.stdout
    )
    chosen = invoke(
        "new",
        tmp_path / "chosen",
        "--defaults",
        "--no-git",
        "--data",
        "code_owners=@acme/ml",
    )
    assert chosen.exit_code == 0, chosen.stderr
    assert "placeholder" not in chosen.stdout
    assert chosen.stdout.count("Next:") == 1


@pytest.mark.parametrize(
    "failure", [RuntimeError("disk full"), KeyboardInterrupt()]
)
def test_a_failure_half_way_leaves_nothing_behind(
    tmp_path: Path, monkeypatch, failure
):
    real_render = render.render

    def render_then_fail(destination, **kwargs):
        real_render(destination, **kwargs)
        assert (destination / "Makefile").is_file()  # really half-way
        raise failure

    monkeypatch.setattr("mlops_scaffold.create.render", render_then_fail)
    dest = tmp_path / "deep" / "er" / "project"
    with pytest.raises(type(failure)):
        from mlops_scaffold.create import new_project

        new_project(dest, defaults=True)
    assert list(tmp_path.iterdir()) == []


def test_help_and_version_do_not_import_the_engine():
    import subprocess
    import sys

    code = (
        "import sys; from mlops_scaffold.cli import main; main(['--help']); "
        "heavy = [m for m in ('copier', 'nbconvert', 'check_jsonschema', "
        "'ruamel.yaml', 'jinja2') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"
    version = invoke("--version")
    assert version.exit_code == 0 and "0.1.0" in version.stdout


def run_in_terminal(args: list[str], timeout: float = 120.0) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal, pressing Enter whenever it waits
    (which accepts each prompt's default)."""
    import os
    import pty
    import select
    import sys
    import time

    pid, terminal = pty.fork()
    if pid == 0:  # the child: become the CLI
        os.execv(
            sys.executable, [sys.executable, "-m", "mlops_scaffold.cli", *args]
        )
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 0.5)
            if not ready:
                os.write(terminal, b"\r")
                continue
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        if time.monotonic() >= deadline:
            os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        os.close(terminal)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


@pytest.mark.e2e
def test_interactive_answers_give_the_same_project_as_defaults(tmp_path: Path):
    """Accepting every prompt gives the --defaults project (both are
    Copier's questionnaire; the prompts are its TUI)."""
    asked = tmp_path / "asked" / "card-fraud"
    code, screen = run_in_terminal(
        ["new", str(asked), "--no-git", "--data", "description=Typed here"]
    )
    assert code == 0, screen[-2000:]
    assert "Sprint length in weeks" in screen  # it really asked
    defaults = generate(
        tmp_path / "defaults" / "card-fraud",
        git=False,
        description="Typed here",
    )
    assert snapshot(asked) == snapshot(defaults)


@pytest.mark.e2e
def test_the_longest_package_name_keeps_the_project_lint_clean(tmp_path):
    """The package-name limit in copier.yml is the real one: a name of that
    length passes the generated project's own ruff (80 columns)."""
    import subprocess
    import sys

    name = "card_fraud_scoring_m"
    assert len(name) == 20
    project = generate(tmp_path / "p", git=False, package_name=name)
    ruff = [sys.executable, "-m", "ruff"]
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [*ruff, *command], cwd=project, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
    longer = invoke("new", tmp_path / "q", "--defaults", "--no-git",
                    "--data", f"package_name={name}x")  # fmt: skip
    assert longer.exit_code == 2 and "20 or fewer" in longer.stderr


def test_reserved_package_names_cover_the_standard_library_and_deps(
    default_project,
):
    """Validators cannot import Python, so copier.yml holds the list: it
    must name every standard module and every dependency of the project."""
    import sys
    import tomllib

    from mlops_scaffold.template import questions

    spec = questions()["reserved_package_names"]
    reserved = set(spec["default"].split())
    stdlib = {
        name
        for name in sys.stdlib_module_names
        if not name.startswith("_") and name.islower()
    }
    assert stdlib <= reserved, sorted(stdlib - reserved)
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())
    import_names = {
        "scikit-learn": "sklearn",
        "pyyaml": "yaml",
        "mlflow-skinny": "mlflow",
        "azureml-mlflow": "azureml",
    }
    requirements = [
        *pyproject["project"]["dependencies"],
        *pyproject["project"]["optional-dependencies"]["azure"],
        *pyproject["dependency-groups"]["dev"],
    ]
    for requirement in requirements:
        name = re.split(r"[<>=!~\[ ;]", requirement)[0].lower()
        module = import_names.get(name, name.replace("-", "_"))
        assert module in reserved, requirement


@pytest.mark.e2e
@pytest.mark.parametrize(
    "author", ["Ada <ada@example.com>", "...", "<>", "a>b", " , ", "Zoë 李"]
)
def test_any_accepted_author_makes_the_first_commit_without_git_identity(
    tmp_path: Path, author: str
):
    """With no git identity at all (empty HOME, no global config), the
    author name is the commit's author, made valid for git."""
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "XDG_CONFIG_HOME": str(home),
    }
    for variable in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME", "EMAIL"):
        env.pop(variable, None)
    project = tmp_path / "p"
    result = subprocess.run(
        [sys.executable, "-m", "mlops_scaffold", "new", str(project),
         "--defaults", "--data", f"author_name={author}"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    logged = subprocess.run(
        ["git", "log", "-1", "--format=%an|%ae"],
        cwd=project, capture_output=True, text=True, env=env, check=True,
    ).stdout.strip()  # fmt: skip
    name, email = logged.split("|")
    assert email == "ml-team@example.com"
    assert name and "<" not in name and ">" not in name
    if author == "Zoë 李":
        assert name == author


@pytest.mark.e2e
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("after", [0.4, 0.8, 1.2])
def test_a_signal_at_any_time_leaves_nothing_behind(
    tmp_path: Path, signal_name: str, after: float
):
    """Ctrl-C or SIGTERM part-way: exit 130 (or the run had finished, 0),
    no staging folder left, and the destination complete or absent."""
    import signal
    import subprocess
    import sys
    import time

    destination = tmp_path / "deep" / "p"
    process = subprocess.Popen(
        [sys.executable, "-m", "mlops_scaffold", "new", str(destination),
         "--defaults"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(after)
    process.send_signal(getattr(signal, signal_name))
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr
    left = [p.name for p in tmp_path.rglob(".mlops-scaffold-*")]
    assert left == []
    if process.returncode == 0 or destination.exists():
        # Complete (a signal that lands after the final move, even after
        # the handlers are restored, cannot undo a finished project).
        assert git(destination, "status", "--porcelain") == ""
        assert (destination / ".copier-answers.yml").is_file()
    else:
        # 130; or, before the handlers are installed (interpreter
        # start-up), the signal's own default. Under heavy load a SIGTERM
        # run was once seen to end as -SIGINT with no traceback and nothing
        # left behind (not reproduced since; reported as open).
        assert process.returncode in (
            130,
            -getattr(signal, signal_name),
            -signal.SIGINT,
        )
        assert not (tmp_path / "deep").exists()


@pytest.mark.parametrize("folder", ["/proc", "/sys"])
def test_a_destination_the_os_refuses_is_a_usage_error(folder: str):
    """/proc refuses new folders with ENOENT, /sys with EPERM: either is
    a message naming the folder, not a traceback."""
    if not Path(folder).is_dir():
        pytest.skip(f"no {folder} here")
    result = invoke("new", f"{folder}/mlops-x", "--defaults", "--no-git")
    assert result.exit_code == 2, result.stderr
    assert f"Cannot create files in {folder}:" in result.stderr
    assert "hint:" in result.stderr
    assert not Path(folder, "mlops-x").exists()


def test_git_variables_of_a_hook_do_not_leak_into_the_render(
    tmp_path: Path, monkeypatch
):
    """Inside a git hook GIT_DIR, GIT_INDEX_FILE... point at the hook's
    repository; Copier's git and ours must work on the new project."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "--quiet")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git/index"))
    result = invoke("new", tmp_path / "g4", "--defaults")
    assert result.exit_code == 0, result.stderr
    assert os.environ["GIT_DIR"] == str(other / ".git")  # restored
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_WORK_TREE")
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert git(tmp_path / "g4", "rev-list", "--count", "HEAD") == "1"
    assert git(other, "for-each-ref") == ""
    assert not (other / ".git/index").exists()


def test_a_failing_git_inside_copier_is_a_message(tmp_path: Path, monkeypatch):
    import copier
    from plumbum import ProcessExecutionError

    def fail(*args, **kwargs):
        raise ProcessExecutionError(
            ["git", "clone", "x"], 128, "", "fatal: not a git repository"
        )

    monkeypatch.setattr(copier, "run_copy", fail)
    result = invoke("new", tmp_path / "p", "--defaults")
    assert result.exit_code == 1, result.stderr
    assert "`git clone x` failed (exit 128)" in result.stderr
    assert "fatal: not a git repository" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "p").exists()


LINE_BREAKS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85",
               "\u2028", "\u2029", "\x00", "\x7f"]  # fmt: skip


def _text_questions() -> dict:
    from mlops_scaffold.template import asked_questions

    return {
        name: spec
        for name, spec in asked_questions().items()
        if spec.get("type") == "str" and "choices" not in spec
    }


def _validate(name: str, value: str) -> str:
    """The question's validator, rendered as Copier renders it (its
    Jinja options from copier.yml, its default filters), over answers that
    are otherwise valid."""
    from jinja2.sandbox import SandboxedEnvironment

    from mlops_scaffold.template import copier_config

    env = SandboxedEnvironment(
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        **copier_config()["_envops"],
    )
    context = {"staging_environment": "staging", "reserved_package_names": ""}
    validator = _text_questions()[name]["validator"]
    return env.from_string(validator).render({**context, name: value}).strip()


@pytest.mark.parametrize("name", sorted(_text_questions()))
def test_every_text_answer_refuses_every_line_break(name: str):
    valid = {"author_email": "a@b.example", "code_owners": "@alice",
             "platform_owners": "@bob", "project_name": "Fraud",
             "description": "Scores", "author_name": "Team",
             "azure_location": "westeurope"}  # fmt: skip
    plain = valid.get(name, "ab")
    assert _validate(name, plain) == ""  # the check can pass
    for separator in LINE_BREAKS:
        for value in (plain + separator + "x", plain + separator):
            message = _validate(name, value)
            assert "must be one line" in message, (name, repr(value))


def test_copier_itself_refuses_a_unicode_line_separator(tmp_path: Path):
    result = invoke(
        "new", tmp_path / "p", "--defaults", "--no-git",
        "--data", "description=Scores\u2028records",
    )  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert "'description'" in result.stderr
    assert "must be one line" in result.stderr
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    "source", ["/tmp/x\n_commit: v9", "a\tb", "x\u2028y", "  "]
)
def test_a_template_source_that_is_not_one_line_is_refused(
    tmp_path: Path, source: str
):
    result = invoke(
        "new", tmp_path / "p", "--defaults", "--template-source", source
    )
    assert result.exit_code == 2, result.stderr
    assert "--template-source" in result.stderr and "hint:" in result.stderr
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (ZeroDivisionError("division by zero"), "ZeroDivisionError"),
        (OSError(28, "No space left on device", "/x"), "No space left"),
    ],
)
def test_an_unexpected_exception_is_an_internal_error_paragraph(
    tmp_path: Path, monkeypatch, failure, words
):
    from mlops_scaffold import create

    def fail(*args, **kwargs):
        raise failure

    monkeypatch.delenv("MLOPS_SCAFFOLD_DEBUG")
    monkeypatch.setattr(create, "render", fail)
    result = invoke("new", tmp_path / "p", "--defaults", "--no-git")
    assert result.exit_code == 1
    assert result.stderr.startswith("Internal error: ")
    assert words in result.stderr and "/issues" in result.stderr
    assert "MLOPS_SCAFFOLD_DEBUG=1" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("MLOPS_SCAFFOLD_DEBUG", "1")
    with pytest.raises(type(failure)):
        invoke("new", tmp_path / "q", "--defaults", "--no-git")


@pytest.mark.parametrize("exists", [True, False], ids=["empty-folder", "new"])
def test_two_runs_into_one_folder_never_mix(
    tmp_path: Path, monkeypatch, exists: bool
):
    """Another `new` finishes into the destination while this one renders:
    this one fails cleanly and leaves the other's project untouched."""
    from mlops_scaffold import create

    destination = tmp_path / "fraud-model"
    if exists:
        destination.mkdir()
    real = create.initial_commit

    def the_other_run_finishes_first(project, answers):
        destination.mkdir(exist_ok=True)
        (destination / ".copier-answers.yml").write_text("theirs\n")
        real(project, answers)

    monkeypatch.setattr(create, "initial_commit", the_other_run_finishes_first)
    result = invoke("new", destination, "--defaults")
    assert result.exit_code == 2, result.stderr
    assert "was filled by something else" in result.stderr
    assert snapshot(destination) == {".copier-answers.yml": b"theirs\n"}
    assert [p.name for p in tmp_path.iterdir()] == ["fraud-model"]


def test_without_uv_new_succeeds_and_says_in_one_line_what_to_run(
    tmp_path: Path, monkeypatch
):
    """A first push without uv.lock fails CI (it installs the lock): when
    `new` cannot lock, it says so in one line."""
    from mlops_scaffold import lock

    monkeypatch.delenv("MLOPS_SCAFFOLD_NO_LOCK")
    monkeypatch.setattr(lock, "find_uv", lambda: None)
    result = invoke("new", tmp_path / "fraud-model", "--defaults")
    assert result.exit_code == 0, result.stderr
    lines = [
        line for line in result.stdout.splitlines() if "uv.lock is not" in line
    ]
    assert len(lines) == 1, result.stdout
    assert "uv is not installed" in lines[0]
    assert "`make install`" in lines[0] and "commit uv.lock" in lines[0]
    assert not (tmp_path / "fraud-model" / "uv.lock").exists()


def test_an_unreachable_index_leaves_no_half_written_lock(
    tmp_path: Path, monkeypatch
):
    from mlops_scaffold import lock

    project = tmp_path / "p"
    project.mkdir()
    monkeypatch.setattr(lock, "find_uv", lambda: "/bin/false")
    (project / "uv.lock").write_text("partial")
    reason = lock.lock_project(project)
    assert reason and "package index" in reason
    assert not (project / "uv.lock").exists()


@pytest.mark.e2e  # resolves against the package index
def test_new_commits_uv_lock_and_its_serving_export(
    tmp_path: Path, monkeypatch
):
    monkeypatch.delenv("MLOPS_SCAFFOLD_NO_LOCK")
    created = generate(tmp_path / "fraud-model", iac="none")
    tracked = git(created, "ls-files").splitlines()
    assert "uv.lock" in tracked and "deploy/conda.yml" in tracked
    assert git(created, "status", "--porcelain") == ""
    assert "scikit-learn" in (created / "deploy/conda.yml").read_text()


def test_a_signal_inside_an_import_callback_is_delivered_after_it(
    monkeypatch,
):
    """Raised inside the import system's weakref callback, KeyboardInterrupt
    would be printed with a traceback and dropped: the handler sends the
    signal again instead (delivered at the next instruction outside), and
    raises it anywhere else."""
    import signal
    import types

    from mlops_scaffold import render

    sent = []
    monkeypatch.setattr(render.signal, "raise_signal", sent.append)

    def frame(filename: str):
        return types.SimpleNamespace(
            f_code=types.SimpleNamespace(co_filename=filename)
        )

    with render.terminate_as_interrupt():
        for number in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(number)
            assert (
                handler(number, frame("<frozen importlib._bootstrap>")) is None
            )
            with pytest.raises(KeyboardInterrupt):
                handler(number, frame(render.__file__))
    assert sent == [signal.SIGINT, signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
