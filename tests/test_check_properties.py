"""Hostile pipeline files for `check` and `review`: YAML of any shape and
size, aliases (bombs, recursion), encodings and bytes. The contract: exit
0, 1 or 2, never a traceback, bounded time and memory, and a finding (not
a crash) for a file the service would reject."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import git
from mlops_scaffold.errors import ScaffoldError
from mlops_scaffold.pipelines.check import check
from mlops_scaffold.pipelines.report import render
from mlops_scaffold.pipelines.review import review_change, to_markdown

pytestmark = pytest.mark.e2e  # hypothesis: hundreds of generated documents

KEYS = [
    "on", "jobs", "steps", "runs-on", "uses", "run", "with", "needs",
    "environment", "permissions", "timeout-minutes", "stages", "stage",
    "job", "deployment", "dependsOn", "strategy", "runOnce", "deploy",
    "task", "inputs", "script", "checkout", "template", "trigger", "pr",
    "pool", "variables", "parameters", "extends", "runs", "using", "name",
    "${{ if eq(1, 1) }}", "persistCredentials", "timeoutInMinutes",
]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.sampled_from(["production", "staging", "actions/checkout@v4",
                     "Docker@2", "make deploy ENVIRONMENT=production",
                     "${{ github.event.issue.title }}", "$(Build.SourceVersionMessage)",
                     "template.yml", "../../../etc/passwd", ""]),
    st.text(max_size=20),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=5),
    ),
    max_leaves=40,
)
WHERE = [
    ".github/workflows/hostile.yml",
    "azure-pipelines/hostile.yml",
    "eng/pipelines/hostile.yml",
    "tools/action.yml",
]
# Files a YAML dumper does not make: aliases, bad bytes, deep nesting.
RAW = [
    b"a: &a [*a]\n",
    b"&a {x: *a}\n",
    b'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode()
        for i in range(9)
    ),
    b"on: \xff\xfe push\n",
    b"\xef\xbb\xbfon: push\njobs: {}\n",
    "on: push\njobs:\n".encode("utf-16"),
    b"- " * 5000 + b"x\n",
    b"".join(b"  " * i + b"k%d:\n" % i for i in range(300)),
    b"[" * 2000,
    b"on: push\njobs:\n  a: !!python/object:os.system {}\n",
    b"jobs: [a, b]\non: push\n",
    b"stages: 5\n",
    b"steps: 5\n",
    b"on: 5\njobs: 5\n",
    b"42\n",
    b"- a\n- b\n",
    b"trigger: none\nstages:\n  - stage: A\n    dependsOn: 5\n    jobs: 5\n",
    b"---\na: 1\n---\nb: 2\n",
    b"\x00\x01\x02",
]  # fmt: skip
FILE_LIMITS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _write(root: Path, relative: str, raw: bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)


def _dump(document) -> bytes:
    return yaml.safe_dump(document, allow_unicode=True).encode()


# Folder names of any bytes git and the file system take (no "/" or NUL).
folder_names = (
    st.binary(min_size=1, max_size=12)
    .filter(
        lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..")
    )
    .map(os.fsdecode)
)


@FILE_LIMITS
@given(
    document=documents,
    where=st.sampled_from(WHERE),
    flow=st.booleans(),
    folder=st.one_of(st.none(), folder_names),
)
@pytest.mark.e2e
def test_check_survives_any_document(
    tmp_path_factory, document, where, flow, folder
):
    """Any document, block or flow style (JSON-like), under a folder of
    any bytes: findings on the file, never a crash, every output format
    printable on one line per finding."""
    root = tmp_path_factory.mktemp("any")
    where = f"{folder}/{where}" if folder else where
    text = (
        yaml.safe_dump(document, default_flow_style=True, width=10**6)
        if flow
        else yaml.safe_dump(document, allow_unicode=True)
    )
    _write(root, where, text.encode("utf-8", "surrogateescape"))
    result = check(root)
    for finding in result.findings:
        assert finding.severity in ("error", "warning", "note")
        assert finding.line >= 1 and finding.file == where
    for style in ("text", "github", "sarif", "json"):
        rendered = render(result, style)
        for line in rendered.splitlines():
            if style != "github":
                assert not line.lstrip().startswith("::"), line


@pytest.mark.parametrize("raw", RAW, ids=range(len(RAW)))
@pytest.mark.parametrize("where", WHERE[:2])
def test_check_reports_hostile_bytes_as_findings(tmp_path, raw, where):
    _write(tmp_path, where, raw)
    result = check(tmp_path)
    rules = {f.rule for f in result.findings}
    # A file in a pipelines folder that the service would reject is
    # reported, never skipped and never a crash.
    parsed = None
    try:
        parsed = yaml.safe_load(raw)
    except Exception:  # noqa: BLE001 - anything PyYAML refuses
        parsed = "unreadable"
    if parsed == "unreadable" or not isinstance(parsed, dict):
        assert rules & {"MS100", "MS101"}, result.findings


def _limited():
    limit = 1024 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.e2e
def test_the_command_keeps_its_contract_on_every_hostile_file(tmp_path):
    """The installed command, as CI runs it: all the hostile files at
    once, in 1 GiB of memory and a minute, exit 1, no traceback."""
    for index, raw in enumerate(RAW):
        _write(tmp_path, f".github/workflows/h{index}.yml", raw)
        _write(tmp_path, f"azure-pipelines/h{index}.yml", raw)
    for style in ("text", "sarif"):
        result = subprocess.run(
            [sys.executable, "-m", "mlops_scaffold", "check", str(tmp_path),
             "--format", style],
            capture_output=True, text=True, timeout=60,
            preexec_fn=_limited,
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert "MS100" in result.stdout and "MS101" in result.stdout


def test_a_huge_file_is_refused_with_its_size(tmp_path):
    _write(
        tmp_path,
        ".github/workflows/huge.yml",
        b"on: push\n" + b"# padding\n" * 300_000,
    )
    findings = check(tmp_path).findings
    assert [f.rule for f in findings] == ["MS100"]
    assert "byte limit" in findings[0].message


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    before=st.one_of(documents.map(_dump), st.sampled_from(RAW)),
    after=st.one_of(documents.map(_dump), st.sampled_from(RAW)),
    where=st.sampled_from(WHERE),
)
@pytest.mark.e2e
def test_review_survives_any_change(tmp_path_factory, before, after, where):
    root = tmp_path_factory.mktemp("review")
    git(root, "init", "--quiet", "--initial-branch=main")
    _write(root, where, before)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "base")
    _write(root, where, after)
    try:
        result = review_change(root, base="main")
    except ScaffoldError:
        return  # a clear message, exit 1 or 2: within the contract
    markdown = to_markdown(result)
    assert "```mermaid\n\n```" not in markdown
    assert "```mermaid\n```" not in markdown


WRONG_SHAPES = [
    (".github/workflows/w.yml", "on: push\njobs: [a, b]\n"),
    (".github/workflows/w.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps: 5\n"),
    (".github/workflows/w.yml", "on: 5\njobs:\n  a:\n    runs-on: x\n    steps: [{run: x}]\n"),
    (".github/workflows/w.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    needs: {x: 1}\n    steps: [{run: x}]\n"),
    ("azure-pipelines/p.yml", "- a\n- b\n"),
    ("azure-pipelines/p.yml", "42\n"),
    ("azure-pipelines/p.yml", "stages: 5\n"),
    ("azure-pipelines/p.yml", "trigger: none\nstages:\n  - stage: A\n    dependsOn: {a: 1}\n    jobs:\n      - job: x\n        steps: [{script: x}]\n"),
    ("azure-pipelines/p.yml", "trigger: none\njobs:\n  - job: x\n    dependsOn: [[1]]\n    steps: 7\n"),
    ("tools/action.yml", "name: x\ndescription: y\nruns:\n  using: composite\n  steps: 5\n"),
]  # fmt: skip


@pytest.mark.parametrize(("where", "text"), WRONG_SHAPES)
def test_valid_yaml_of_the_wrong_shape_is_a_schema_finding(
    tmp_path, where, text
):
    _write(tmp_path, where, text.encode())
    findings = check(tmp_path).findings
    # Every schema error is reported (bounded), so at least one.
    schema = [f for f in findings if f.rule == "MS101"]
    assert 1 <= len(schema) <= 20, findings
    assert all(f.file == where for f in findings)


# ------------------------------------------------- hostile file system
@pytest.mark.parametrize("use_git", [False, True])
def test_a_fifo_is_named_never_read(tmp_path, use_git):
    """A FIFO with a workflow's name would block a read forever: discovery
    names it in a note and goes on; as a FILE argument it is bad input."""
    import os

    from helpers import invoke

    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("name: CI\non: push\njobs: {}\n")
    if use_git:
        git(tmp_path, "init", "--quiet")
    os.mkfifo(workflows / "f.yml")
    result = check(tmp_path, use_auditor=False)
    notes = [f for f in result.findings if f.file.endswith("f.yml")]
    # git lists no FIFO at all; a folder walk names it in a note.
    expected = [] if use_git else [("MS100", "note")]
    assert [(f.rule, f.severity) for f in notes] == expected
    assert all("not a regular file" in f.message for f in notes)
    assert ".github/workflows/f.yml" not in result.checked
    outcome = invoke("check", workflows / "f.yml", "--root", tmp_path)
    assert outcome.exit_code == 2, outcome.stderr
    assert "is not a regular file" in outcome.stderr


def test_the_bounded_reader_checks_the_opened_file(tmp_path):
    from mlops_scaffold.yamlio import NotRegularFileError, read_bounded

    big = tmp_path / "big.yml"
    big.write_bytes(b"a" * 11)
    assert read_bounded(big, limit=11) == b"a" * 11
    with pytest.raises(ScaffoldError, match="over the 10-byte limit"):
        read_bounded(big, limit=10)
    with pytest.raises(NotRegularFileError):
        read_bounded(tmp_path)


DEEP_TOML = "[tool.x]\nv = " + "[" * 100_000 + "]" * 100_000 + "\n"
DEEP_YAML = "ignore: " + "[" * 100_000 + "]" * 100_000 + "\n"


@pytest.mark.parametrize(
    ("name", "text"),
    [("pyproject.toml", DEEP_TOML), (".mlops-scaffold.yml", DEEP_YAML)],
    ids=["toml", "yaml"],
)
def test_deeply_nested_settings_are_bad_input(tmp_path, name, text):
    from helpers import invoke

    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("name: CI\non: push\njobs: {}\n")
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "base")
    (tmp_path / name).write_text(text)
    for args in (["check", tmp_path], ["review", tmp_path, "--base", "main"]):
        (workflows / "ci.yml").write_text("name: CI\non: [push]\njobs: {}\n")
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert name in result.stderr
        assert "Traceback" not in result.stderr + result.stdout


HOSTILE_KEYS = [
    "a\n::add-mask::secret",
    "\x1b[2J\x1b]0;title\x07",
    "::error::fake",
    "b\r\n::warning file=x::y",
    "c\u2028d\x85e",
]


@pytest.mark.parametrize("style", ["text", "github", "json", "sarif"])
def test_untrusted_text_never_prints_control_characters(tmp_path, style):
    """Job ids and values with newlines, escape sequences and workflow
    commands come back escaped: no raw control character, and no output
    line that starts a workflow command from the file's content."""
    import json

    from helpers import invoke

    jobs = {
        key: {"runs-on": "ubuntu-latest", "steps": [{"run": key}]}
        for key in HOSTILE_KEYS
    }
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        yaml.safe_dump({"on": "push", "jobs": jobs}, allow_unicode=True)
    )
    (workflows / "::x.yml").write_text("on: push\njobs: [1]\n")
    result = invoke("check", tmp_path, "--format", style)
    assert result.exit_code == 1, result.stderr
    output = result.stdout
    unsafe = {chr(c) for c in range(32) if chr(c) != "\n"}
    unsafe |= {"\x7f", "\x85", "\u2028", "\u2029"}
    assert not unsafe & set(output)
    lines = output.splitlines()
    if style == "github":
        levels = ("::error ", "::warning ", "::notice ")
        assert lines and all(line.startswith(levels) for line in lines)
        assert not any(
            "::add-mask::" in line.split("::", 2)[1] for line in lines
        )
    else:
        assert not any(line.lstrip().startswith("::") for line in lines)
    if style in ("json", "sarif"):
        json.loads(output)
    if style == "text":
        assert "a\\n::add-mask::secret" in output
        assert "\\x1b[2J" in output


@pytest.mark.e2e
def test_a_finding_message_is_bounded(tmp_path):
    """A top-level key of 100,000 characters, and 100,000 keys: no
    megabyte line, and the cut says how much was left out."""
    from helpers import invoke

    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    keys = "? " + "k" * 100_000 + "\n: 1\n"  # an explicit key: no limit
    keys += "".join(f"k{i}: 1\n" for i in range(100_000))
    job = "jobs:\n  a:\n    runs-on: x\n    steps: [{run: x}]\n"
    (workflows / "ci.yml").write_text(f"on: push\n{job}{keys}")
    result = invoke("check", tmp_path, "--format", "json")
    messages = [f["message"] for f in __import__("json").loads(result.stdout)]
    assert messages and max(map(len, messages)) <= 600
    assert max(len(line) for line in result.stdout.splitlines()) < 2000
    assert any(m.endswith("more characters)") for m in messages)


HOSTILE_NAMES = [
    "x\n```\n# Owned\n```mermaid",
    "`` ` ``` `",
    "## heading",
    "[click](https://evil.example) ![img](https://evil.example/x.png)",
    "<details><summary>hi</summary>",
    'a"]\n  end\n  n_x["b',
    "</details>\n### Fake",
    "- item\r\n> quote",
]


def _rendered_review(tmp_path: Path) -> tuple[str, list[str]]:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    base = {"on": "push", "jobs": {"build": {"runs-on": "ubuntu-latest",
            "steps": [{"run": "make"}]}}}  # fmt: skip
    (workflows / "ci.yml").write_text(yaml.safe_dump(base))
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "base")
    jobs = {
        name: {
            "name": name,
            "runs-on": "ubuntu-latest",
            "environment": name,
            "needs": ["build"],
            "steps": [{"name": name, "run": name, "uses": f"{name}@v1"}],
        }
        for name in HOSTILE_NAMES
    }
    jobs["build"] = {
        "runs-on": "ubuntu-latest",
        "environment": HOSTILE_NAMES[0],
        "permissions": {name: "write" for name in HOSTILE_NAMES},
        "steps": [{"run": name} for name in HOSTILE_NAMES],
    }
    head = {"on": {name: {} for name in HOSTILE_NAMES}, "jobs": jobs}
    (workflows / "ci.yml").write_text(yaml.safe_dump(head))
    (workflows / "new.yml").write_text(yaml.safe_dump(head))
    markdown = to_markdown(review_change(tmp_path, base="main"))
    return markdown, [
        "## Pipeline review",
        "### `.github/workflows/ci.yml` (modified)",
        "### `.github/workflows/new.yml` (added)",
        "### New findings",
        "### Risk summary",
    ]


def test_review_markdown_has_only_the_structure_it_wrote(tmp_path):
    """Names from the pull request (job ids, names, environments, steps,
    commands, permissions, triggers) cannot add headings, fences, HTML,
    links or images to the comment."""
    import re

    markdown, headings = _rendered_review(tmp_path)
    lines = markdown.splitlines()
    assert [ln for ln in lines if re.match(r" {0,3}#{1,6}(\s|$)", ln)] == (
        headings
    )
    fences = [ln for ln in lines if re.match(r" {0,3}(`{3,}|~{3,})", ln)]
    assert fences and fences == ["```mermaid", "```"] * (len(fences) // 2)
    html = [ln for ln in lines if re.match(r" {0,3}<", ln)]
    assert set(html) <= {
        "<!-- mlops-scaffold:pipeline-review -->",
        "<details><summary>Deployment path before and after</summary>",
        "</details>",
    }
    # Outside charts and code spans: no link, image or autolink.
    charts = re.compile(r"^```mermaid$.*?^```$", re.MULTILINE | re.DOTALL)
    spans = re.compile(r"(?<![\\`])(`+)(?!`).*?(?<!`)\1(?!`)")
    text = "\n".join(
        spans.sub("", line) for line in charts.sub("", markdown).splitlines()
    )
    assert not re.search(r"(?<!\\)\]\(", text)
    assert "https://" not in text
    assert not re.search(r"(?<!\\)`", text)
    assert not re.search(r"[\x00-\x09\x0b-\x1f]", markdown)
    inside = False
    for line in lines:  # every chart line is a statement the tool wrote
        if line.startswith("```"):
            inside = line == "```mermaid"
            continue
        if inside:
            assert re.match(
                r"(flowchart LR|  subgraph s\d+\[\"[^\"`]*\"\]|  end"
                r"| {2,4}j\d+a?(\[\"[^\"`\[\]]*\"\]|\{\{\"approval\"\}\}"
                r" --> j\d+| --> j\d+a?))$",
                line,
            ), line


def test_review_lines_are_bounded(tmp_path):
    """A job that gains 300 needs: the comment names a few and counts
    the rest; a file over the size bound is unreadable, not removed."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    job = {"runs-on": "x", "steps": [{"run": "make"}]}
    (workflows / "ci.yml").write_text(
        yaml.safe_dump({"on": "push", "jobs": {"deploy": job}})
    )
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "base")
    names = [f"j{i}-" + "x" * 100 for i in range(300)]
    jobs = {name: job for name in names}
    jobs["deploy"] = {**job, "needs": names}
    (workflows / "ci.yml").write_text(
        yaml.safe_dump({"on": "push", "jobs": jobs}, width=10_000)
    )
    markdown = to_markdown(review_change(tmp_path, base="main"))
    assert "and 280 more" in markdown
    assert max(len(line) for line in markdown.splitlines()) < 4000
    (workflows / "ci.yml").write_text("on: push\n" + "#" * 3_000_000)
    markdown = to_markdown(review_change(tmp_path, base="main"))
    assert "(unreadable)" in markdown and "byte limit" in markdown
