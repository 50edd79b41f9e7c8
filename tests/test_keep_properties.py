"""Property-based tests for the commands that change a user's repository
(`update`, `adopt`): hypothesis builds hostile file-system states (YAML of
any shape, aliases, encodings, symlinks out of the repository, files where
folders belong, ignored files, dirty and detached repositories) and
interrupts at any step, and every run must keep the contract:

- the exit code is 0, 1, 2 or 130, and no exception escapes ``main``
  (``invoke`` calls it directly, so a traceback fails the test);
- a failure says what is wrong and what to do (``hint:``);
- nothing outside the repository changes; files git does not track never
  change; a user's tracked file changes only by the command's purpose (a
  merged pipeline keeps every line it had);
- a failed or interrupted run leaves the repository as it was (or, for
  adopt, committed in full), and a rerun finishes the job.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from helpers import generate, git, invoke

pytestmark = pytest.mark.e2e  # property suites that run update/adopt many times

SETTINGS = settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "6")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
    ],
)


# ------------------------------------------------------------ observations
def state(folder: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every entry below ``folder`` outside .git, symlinks as links (never
    followed), files with their bytes."""
    found: dict[str, tuple[str, bytes | str]] = {}
    for top, folders, files in os.walk(folder, followlinks=False):
        folders[:] = [name for name in folders if name != ".git"]
        for name in folders + files:
            path = Path(top, name)
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[relative] = ("link", os.readlink(path))
            elif path.is_file():
                found[relative] = ("file", path.read_bytes())
    return found


def refs(root: Path) -> str:
    if not (root / ".git").exists():
        return ""
    listed = subprocess.run(
        ["git", "show-ref", "--head"], cwd=root, capture_output=True,
        text=True,
    )  # fmt: skip
    return listed.stdout


def untracked(root: Path) -> set[str]:
    """Files git does not track (ignored ones included)."""
    listed = subprocess.run(
        ["git", "ls-files", "--others", "-z"], cwd=root, capture_output=True,
        text=True,
    )  # fmt: skip
    return {name for name in listed.stdout.split("\0") if name}


def keeps_lines(before: bytes, after: bytes) -> bool:
    remaining = iter(after.split(b"\n"))
    return all(
        any(line == c for c in remaining) for line in before.split(b"\n")
    )


def check_contract(result, outside_before, outside: Path) -> None:
    assert result.exit_code in {0, 1, 2, 130}, result
    event(f"exit {result.exit_code}")
    if result.exit_code in {1, 2}:
        assert "Error:" in result.stderr or "Usage:" in result.stderr, result
        assert "hint:" in result.stderr or "Usage:" in result.stderr, result
    if result.exit_code == 130:
        assert "Interrupted" in result.stderr
    assert state(outside) == outside_before


# ------------------------------------------------------------------ inputs
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text(alphabet="ab:-&*!{}[]#\n é", max_size=6),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["jobs", "on", "steps", "stages", "name", "x"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)
SPECIAL_YAML = [
    "a: &x [1, 2]\nb: *x\njobs: *x\n",
    "a: &x [*x]\n",
    "base: &b {runs-on: x}\njobs:\n  test:\n    <<: *b\n",
    "jobs: [\n",
    "project_name: !!python/object:os.system x\n",
    "jobs: {test: &t {runs-on: x}, other: *t}\n",
    "name: CI\non: push\njobs:\n  test:\n    runs-on: x\n",
    "name: CI\r\non: push\r\njobs:\r\n    test:\r\n        runs-on: x\r\n",
    "",
    "---\n---\n",
    "? [a]\n: b\n",
]


@st.composite
def yaml_bytes(draw) -> bytes:
    """YAML of any shape and encoding, valid or not."""
    if draw(st.booleans()):
        text = draw(st.sampled_from(SPECIAL_YAML))
    else:
        text = yaml.safe_dump(
            draw(VALUES),
            default_flow_style=draw(st.sampled_from([None, True, False])),
            allow_unicode=True,
        )
    encoding = draw(
        st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"])
    )
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = data.replace(b"\n", b"\r\n")
    return data


PYPROJECTS = [
    '[project]\nname = "churn-predictor"\nrequires-python = ">=3.12"\n',
    "project = [1, 2]\n",
    "[project]\nname = 5\nrequires-python = 3.11\nauthors = 'Ada'\n",
    "[project]\nname = '../../etc'\ndescription = ['x']\n",
    "[project\n",
    "[project]\nname = '\u00e9t\u00e9'\nauthors = [{name = 3}]\n",
]
ADOPT_HOSTILITIES = [
    "docs-file", "makefile-folder", "workflows-link-out", "ci-link-out",
    "dangling-link", "ignored-at-template-path", "alongside-exists",
    "answers-file", "setup-py", "src-file", "github-file", "pyproject",
]  # fmt: skip


def build_adoptable(
    root: Path, outside: Path, hostilities: set[str], workflow: bytes,
    answers: bytes, pyproject: str,
) -> None:  # fmt: skip
    """A user's repository with the chosen hostile features, committed."""
    root.mkdir(parents=True)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "wf").mkdir(exist_ok=True)
    (outside / "wf" / "ci.yml").write_bytes(workflow)
    (outside / "ci.yml").write_bytes(workflow)
    files: dict[str, bytes] = {
        "src/churn_predictor/__init__.py": b'"""Churn."""\n',
    }
    if "pyproject" in hostilities:
        files["pyproject.toml"] = pyproject.encode()
    if "setup-py" in hostilities:
        files["setup.py"] = b"from setuptools import setup\nsetup()\n"
    if "docs-file" in hostilities:
        files["docs"] = b"a file where the template has a folder\n"
    if "makefile-folder" in hostilities:
        files["Makefile/notes"] = b"a folder named Makefile\n"
    if "src-file" in hostilities:
        files = {k: v for k, v in files.items() if not k.startswith("src/")}
        files["src"] = b"a file named src\n"
    if "github-file" in hostilities:
        files[".github"] = b"a file named .github\n"
    elif "workflows-link-out" not in hostilities:
        files[".github/workflows/ci.yml"] = workflow
    if "alongside-exists" in hostilities:
        files["README.md"] = b"# ours\n"
        files["README.md.mlops-scaffold"] = b"# our notes\n"
    if "answers-file" in hostilities:
        files[".copier-answers.yml"] = answers
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    if "workflows-link-out" in hostilities and "github-file" not in hostilities:
        (root / ".github").mkdir(exist_ok=True)
        (root / ".github" / "workflows").symlink_to(outside / "wf")
    if "ci-link-out" in hostilities and "github-file" not in hostilities:
        target = root / ".github" / "workflows"
        if not target.is_symlink():
            (target / "ci.yml").unlink(missing_ok=True)
            (target / "ci.yml").symlink_to(outside / "ci.yml")
    if "dangling-link" in hostilities:
        (root / "LICENSE").symlink_to(outside / "missing")
    git(root, "init", "--quiet", "--initial-branch=main")
    if "ignored-at-template-path" in hostilities:
        (root / ".gitignore").write_text("Makefile\n.env*\n")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "theirs")
    if (
        "ignored-at-template-path" in hostilities
        and not (root / "Makefile").exists()
    ):
        (root / "Makefile").write_text("# my own, ignored\n")


def repo_dirt(root: Path, how: str) -> None:
    if how == "dirty":
        (root / "wip.txt").write_text("half-done\n")
    elif how == "detached":
        git(root, "switch", "--quiet", "--detach")


# -------------------------------------------------------------------- adopt
@SETTINGS
@given(
    hostilities=st.sets(
        st.sampled_from(ADOPT_HOSTILITIES), min_size=1, max_size=5
    ),
    workflow=yaml_bytes(),
    answers=yaml_bytes(),
    pyproject=st.sampled_from(PYPROJECTS),
    dirt=st.sampled_from(["clean", "clean", "dirty", "detached"]),
)
@example(
    hostilities={"workflows-link-out", "docs-file", "alongside-exists",
                 "ignored-at-template-path"},
    workflow=SPECIAL_YAML[6].encode(), answers=b"", pyproject="", dirt="clean",
)  # fmt: skip
@example(
    hostilities={"ci-link-out", "makefile-folder", "dangling-link",
                 "setup-py"},
    workflow=SPECIAL_YAML[7].encode("utf-8-sig"), answers=b"",
    pyproject="", dirt="clean",
)  # fmt: skip
@example(
    hostilities={"answers-file", "src-file", "pyproject"},
    workflow=SPECIAL_YAML[0].encode(), answers=SPECIAL_YAML[1].encode(),
    pyproject=PYPROJECTS[2], dirt="clean",
)  # fmt: skip
def test_adopt_keeps_the_contract(
    tmp_path_factory, hostilities, workflow, answers, pyproject, dirt
):
    base = tmp_path_factory.mktemp("adopt")
    root, outside = base / "repo", base / "outside"
    build_adoptable(root, outside, hostilities, workflow, answers, pyproject)
    repo_dirt(root, dirt)
    outside_before, before, refs_before = (
        state(outside),
        state(root),
        refs(root),
    )
    not_tracked = untracked(root)

    result = invoke("adopt", root)
    check_contract(result, outside_before, outside)
    after = state(root)
    merged = {
        line.split("into ", 1)[1]
        for line in result.stdout.splitlines()
        if "merged the missing jobs into" in line
        or "merged the missing patterns into" in line
    }
    for relative, (kind, content) in before.items():
        if relative in merged:
            assert kind == "file" and keeps_lines(content, after[relative][1])
        else:
            assert after.get(relative) == (kind, content), relative
    if result.exit_code != 0:
        assert after == before and refs(root) == refs_before
        return
    assert not_tracked <= untracked(root)
    assert git(root, "status", "--porcelain") == ""
    again = invoke("adopt", root)
    assert again.exit_code == 0 and "Already adopted" in again.stdout
    assert state(root) == after


# ------------------------------------------------------------------- update
UPDATE_HOSTILITIES = [
    "answers-file", "docs-file", "docs-link-out", "ignored-at-template-path",
    "template-branch-on-origin-only", "no-template-branch", "readme-rewritten",
]  # fmt: skip
UPDATE_ARGS = st.sampled_from(
    [[], ["--ci", "both"], ["--pretend", "--ci", "both"]]
) | st.sampled_from(
    [
        "tpl",
        "a..b",
        "main",
        "-x",
        "mlops-scaffold/template",
        "ok/name",
        "@",
        "@{-1}",
    ]
).map(lambda name: ["--ci", "both", "--branch", name])


@pytest.fixture(scope="module")
def pristine_project(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("pristine") / "fraud-model")


def copy_project(pristine: Path, base: Path) -> Path:
    root = base / "fraud-model"
    shutil.copytree(pristine, root, symlinks=True)
    return root


def make_update_hostile(
    root: Path, outside: Path, hostilities: set[str], answers: bytes
) -> None:
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "guide.md").write_text("outside\n")
    if "answers-file" in hostilities:
        (root / ".copier-answers.yml").write_bytes(answers)
    if "docs-file" in hostilities:
        shutil.rmtree(root / "docs")
        (root / "docs").write_text("a file where the template has a folder\n")
    elif "docs-link-out" in hostilities:
        shutil.rmtree(root / "docs")
        (root / "docs").symlink_to(outside)
    if "readme-rewritten" in hostilities:
        (root / "README.md").write_text("Our own README.\n")
    git(root, "add", "--all")
    if git(root, "status", "--porcelain"):
        git(root, "commit", "--quiet", "-m", "hostile")
    template = "mlops-scaffold/template"
    if "template-branch-on-origin-only" in hostilities:
        tip = git(root, "rev-parse", template)
        git(root, "update-ref", f"refs/remotes/origin/{template}", tip)
        git(root, "branch", "--quiet", "-D", template)
    elif "no-template-branch" in hostilities:
        git(root, "branch", "--quiet", "-D", template)
    if "ignored-at-template-path" in hostilities:
        (root / ".git/info/exclude").write_text("azure-pipelines/\n")
        (root / "azure-pipelines").mkdir(exist_ok=True)
        (root / "azure-pipelines/ci.yml").write_text("# my draft\n")


@SETTINGS
@given(
    hostilities=st.sets(st.sampled_from(UPDATE_HOSTILITIES), max_size=3),
    answers=yaml_bytes(),
    args=UPDATE_ARGS,
    dirt=st.sampled_from(["clean", "clean", "dirty", "detached", "template"]),
)
@example(
    hostilities={"docs-link-out", "ignored-at-template-path",
                 "template-branch-on-origin-only"},
    answers=b"", args=["--ci", "both"], dirt="clean",
)  # fmt: skip
@example(
    hostilities={"docs-file", "readme-rewritten", "no-template-branch"},
    answers=b"", args=["--ci", "both", "--branch", "tpl"], dirt="clean",
)  # fmt: skip
@example(
    hostilities={"answers-file"}, answers=SPECIAL_YAML[1].encode(),
    args=["--pretend", "--ci", "both"], dirt="clean",
)  # fmt: skip
def test_update_keeps_the_contract(
    tmp_path_factory, pristine_project, hostilities, answers, args, dirt
):
    base = tmp_path_factory.mktemp("update")
    root, outside = copy_project(pristine_project, base), base / "outside"
    make_update_hostile(root, outside, hostilities, answers)
    if dirt == "template":
        if "mlops-scaffold/template" in git(root, "branch", "--list"):
            git(root, "switch", "--quiet", "mlops-scaffold/template")
    else:
        repo_dirt(root, dirt)
    outside_before, before, refs_before = (
        state(outside),
        state(root),
        refs(root),
    )
    kept = {name: before.get(name) for name in untracked(root)}

    start = git(root, "branch", "--show-current") or git(
        root, "rev-parse", "HEAD"
    )
    result = invoke("update", root, *args)
    check_contract(result, outside_before, outside)
    after = state(root)
    assert {name: after.get(name) for name in kept} == kept
    links = {k: v for k, v in before.items() if v[0] == "link"}
    assert {name: after.get(name) for name in links} == links
    conflicted = "have conflicts" in result.stderr
    if result.exit_code != 0 and not conflicted:
        assert after == before and refs(root) == refs_before
        return
    if "--pretend" in args:
        assert after == before and refs(root) == refs_before
        return
    if conflicted:  # the tool's own hint: abort; the change comes back
        assert "next `mlops-scaffold update`" in result.stderr
        git(root, "merge", "--abort")
        if "--branch" in args:
            git(root, "checkout", "--quiet", start)
            git(
                root,
                "branch",
                "--quiet",
                "-D",
                args[args.index("--branch") + 1],
            )
        assert state(root) == before and refs(root) == refs_before
        again = invoke("update", root, *args)
        assert again.exit_code == 1 and "have conflicts" in again.stderr
        return
    assert git(root, "status", "--porcelain") == ""
    if "both" in args:  # the answer change landed, whatever the base
        assert (root / "azure-pipelines").is_dir()
        recorded = yaml.safe_load((root / ".copier-answers.yml").read_text())
        assert recorded["ci_provider"] == "both"
    again = invoke("update", root)
    assert again.exit_code == 0, again.stderr
    assert "Already up to date" in again.stdout


LINE_BREAKS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e",
               "\x85", "\u2028", "\u2029"]  # fmt: skip


@SETTINGS
@given(
    name=st.sampled_from(["project_name", "description", "author_name"]),
    separator=st.sampled_from(LINE_BREAKS),
    args=st.sampled_from([[], ["--ci", "both"]]),
)
def test_a_recorded_answer_with_a_line_break_is_refused_not_rewritten(
    tmp_path_factory, pristine_project, name, separator, args
):
    """A line break committed in a text answer (by hand, or by an older
    version) is refused with the file named; the answer is never folded
    and silently rewritten by the merge."""
    root = copy_project(pristine_project, tmp_path_factory.mktemp("lines"))
    path = root / ".copier-answers.yml"
    answers = yaml.safe_load(path.read_text())
    answers[name] = f"Two{separator}lines"
    path.write_text(yaml.safe_dump(answers, sort_keys=False))
    git(root, "commit", "--quiet", "-am", "a line break")
    before, refs_before = state(root), refs(root)
    result = invoke("update", root, *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert ".copier-answers.yml" in result.stderr
    assert f"'{name}'" in result.stderr and "must be one line" in (
        result.stderr
    )
    assert state(root) == before and refs(root) == refs_before
    assert yaml.safe_load(path.read_text())[name] == f"Two{separator}lines"


# -------------------------------------------------------------- interrupts
INTERRUPTIBLE = {
    "update": ["gitutil.git", "update.render", "update.commit_tree"],
    "adopt": ["gitutil.git", "adopt.render", "adopt._write", "adopt._plan"],
}


@SETTINGS
@given(
    command=st.sampled_from(sorted(INTERRUPTIBLE)),
    data=st.data(),
    call=st.integers(1, 40),
    after_call=st.booleans(),
)
def test_an_interrupt_anywhere_is_undone_and_a_rerun_finishes(
    tmp_path_factory, pristine_project, command, data, call, after_call
):
    """KeyboardInterrupt from the Nth call of one of our functions (before
    or after it did its work): the repository is as it was (an adopt that
    got as far as its commit keeps it), and the next run finishes."""
    import importlib

    target = data.draw(st.sampled_from(INTERRUPTIBLE[command]))
    base = tmp_path_factory.mktemp("interrupt")
    if command == "update":
        root = copy_project(pristine_project, base)
        args = ["--ci", "both"]
    else:
        root, args = base / "repo", []
        workflow = b"name: CI\non: push\njobs:\n  test:\n    runs-on: x\n"
        build_adoptable(root, base / "outside", set(), workflow, b"", "")
    before, refs_before = state(root), refs(root)
    module_name, name = target.split(".")
    module = importlib.import_module(f"mlops_scaffold.{module_name}")
    real, calls = getattr(module, name), []

    def interrupted(*a, **k):
        calls.append(name)
        if len(calls) == call:
            if after_call:
                real(*a, **k)
            raise KeyboardInterrupt
        return real(*a, **k)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, name, interrupted)
        result = invoke(command, root, *args)
    assert result.exit_code in {0, 130}, result
    if result.exit_code == 130:
        committed = command == "adopt" and refs(root) != refs_before
        if not committed:
            assert state(root) == before and refs(root) == refs_before
        assert git(root, "status", "--porcelain") == ""
        rerun = invoke(command, root, *args)
        assert rerun.exit_code == 0, rerun.stderr
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "rev-parse", "--verify", "mlops-scaffold/template")
    if command == "update":
        assert (root / "azure-pipelines/ci.yml").is_file()
    else:
        assert (root / ".copier-answers.yml").is_file()


# ---------------------------------------------- the installed command itself
def installed_command() -> list[str]:
    found = shutil.which("mlops-scaffold")
    return [found] if found else [sys.executable, "-m", "mlops_scaffold"]


@pytest.mark.parametrize(
    ("command", "answers"),
    [
        ("update", b"a: &x [*x]\n"),
        ("update", b"\xff\xfe\x00"),
        ("update", b"- just\n- a list\n"),
        ("update", b"ci_provider: {a: 1}\n"),
        ("adopt", b""),
    ],
)
def test_the_installed_command_never_prints_a_traceback(
    tmp_path, pristine_project, command, answers
):
    if command == "update":
        root = copy_project(pristine_project, tmp_path)
        make_update_hostile(root, tmp_path / "out", {"answers-file"}, answers)
    else:
        root = tmp_path / "repo"
        build_adoptable(
            root, tmp_path / "out", {"docs-file", "workflows-link-out"},
            b"jobs: [\n", b"", "",
        )  # fmt: skip
    completed = subprocess.run(
        [*installed_command(), command, str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert completed.returncode in {0, 1, 2}, completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
    if completed.returncode:
        assert ".copier-answers.yml" in completed.stderr or (
            "ci.yml" in completed.stderr
        )
