"""Non-interactive runs are rendered by mlops-scaffold itself (the
questionnaire plus one walk of the template); interactive ones by Copier.
Both must give the same project, byte for byte and mode for mode, the same
answers, and the same refusal of bad input."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_validators import CI, IAC, TRICKY

from mlops_scaffold.errors import GenerationError, InvalidAnswerError
from mlops_scaffold.questionnaire import answer, check_template_supported
from mlops_scaffold.render import render_directly, render_with_copier
from mlops_scaffold.template import asked_questions, questions

USER_DEFAULTS = {"project_name": "Fraud Model"}


def tree(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path below ``folder``, folders included, with its permission
    bits and (for files) its bytes."""
    return {
        path.relative_to(folder).as_posix(): (
            stat.S_IMODE(path.stat().st_mode),
            path.read_bytes() if path.is_file() else None,
        )
        for path in sorted(folder.rglob("*"))
    }


def both_ways(tmp_path: Path, data: dict[str, Any]):
    direct = tmp_path / "direct" / "fraud-model"
    copier = tmp_path / "copier" / "fraud-model"
    ours = render_directly(direct, data=data, user_defaults=USER_DEFAULTS)
    theirs = render_with_copier(
        copier, data=data, defaults=True, user_defaults=USER_DEFAULTS
    )
    return (direct, ours), (copier, theirs)


@pytest.mark.parametrize("ci", CI)
@pytest.mark.parametrize("iac", IAC)
def test_direct_render_equals_copier(tmp_path: Path, ci: str, iac: str):
    (direct, ours), (copier, theirs) = both_ways(
        tmp_path, {"ci_provider": ci, "iac": iac}
    )
    rendered = tree(direct)
    assert rendered == tree(copier)
    assert len([p for p, (_, data) in rendered.items() if data]) > 50
    assert ours == {name: theirs[name] for name in questions()}


def test_direct_render_equals_copier_on_tricky_text(tmp_path: Path):
    data = {
        **TRICKY,
        "project_slug": "tricky-text",
        "ci_provider": "both",
        "iac": "both",
        "sprint_length_weeks": "3",
        "retrain_on_drift": "yes",
        "python_version": "3.13",
    }
    (direct, ours), (copier, theirs) = both_ways(tmp_path, data)
    assert tree(direct) == tree(copier)
    assert ours == {name: theirs[name] for name in questions()}
    assert ours["sprint_length_weeks"] == 3
    assert ours["retrain_on_drift"] is True
    assert ours["python_versions"] == ["3.13", "3.14"]


def refusal(render, tmp_path: Path, data: dict[str, Any]) -> str | None:
    try:
        render(tmp_path, data=data)
    except InvalidAnswerError as error:
        return str(error)
    return None


def direct(destination: Path, *, data):
    return render_directly(destination, data=data)


def via_copier(destination: Path, *, data):
    return render_with_copier(destination, data=data, defaults=True)


ANSWER_STRATEGY = st.one_of(
    st.tuples(
        st.sampled_from(
            [
                "project_name",
                "package_name",
                "project_slug",
                "author_email",
                "default_branch",
                "staging_environment",
                "code_owners",
                "azure_location",
                "description",
            ]
        ),  # fmt: skip
        st.text(max_size=30),
    ),
    st.tuples(
        st.sampled_from(["sprint_length_weeks", "retrain_on_drift"]),
        st.sampled_from(["0", "2", "5", "x", "true", "no", "", "1.5"]),
    ),
    st.tuples(
        st.sampled_from(["python_version", "ci_provider", "iac"]),
        st.sampled_from(["3.10", "3.12", "github", "azure", "gitlab", "none"]),
    ),
)


@settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(pair=ANSWER_STRATEGY)
def test_both_paths_accept_and_refuse_the_same_answers(tmp_path_factory, pair):
    """Whatever one answer is, both paths accept it with the same result
    or refuse it with the same message."""
    key, value = pair
    data = {key: value}
    ours = refusal(direct, tmp_path_factory.mktemp("d") / "p", data)
    theirs = refusal(via_copier, tmp_path_factory.mktemp("c") / "p", data)
    if ours is None or theirs is None:
        assert ours == theirs
        return
    # Copier's ValueError text, behind the same "Invalid answer:" prefix.
    assert ours.split("\n")[0] == theirs.split("\n")[0]


def test_computed_answers_are_used_but_not_recorded(tmp_path: Path):
    answers = answer(
        {"ci_provider": "both", "iac": "none"},
        destination=tmp_path / "card-fraud",
    )
    assert answers.values["project_name"] == "Card Fraud"
    assert answers.values["ci_github"] and answers.values["ci_azure"]
    assert not answers.values["iac_bicep"]
    assert set(answers.recorded) == set(asked_questions())
    assert "azure_names" not in answers.recorded


def test_a_template_feature_it_does_not_render_is_refused(
    tmp_path: Path, monkeypatch
):
    template = tmp_path / "template"
    template.mkdir()
    (template / "copier.yml").write_text(
        "_tasks: [echo hi]\nname:\n  type: str\n  secret: true\n  default: x\n"
    )
    monkeypatch.setenv("MLOPS_SCAFFOLD_TEMPLATE", str(template))
    with pytest.raises(GenerationError) as raised:
        check_template_supported()
    assert "_tasks" in str(raised.value)
    assert "name.secret" in str(raised.value)


def build_template(root: Path, files: dict[str, str]) -> Path:
    """A tiny template built in code (path -> text; a name ending in '*'
    is made executable)."""
    for name, text in files.items():
        path = root / name.rstrip("*")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if name.endswith("*"):
            path.chmod(0o755)
    return root


TINY_SETTINGS = """\
_subdirectory: project
_templates_suffix: .jinja
_answers_file: .answers.yml
_exclude: ["*.pyc", "skip-me"]
_envops: {variable_start_string: "[[", variable_end_string: "]]",
          block_start_string: "[%", block_end_string: "%]",
          keep_trailing_newline: true}
name: {type: str, default: demo}
shout: {type: bool, default: "[[ name == 'loud' ]]", when: false}
"""


@pytest.mark.parametrize("name", ["demo", "loud"])
def test_copier_path_rules_on_a_tiny_template(
    tmp_path: Path, monkeypatch, name: str
):
    """Templated siblings win, empty segments drop paths, exclusions
    apply to rendered paths, modes are kept: as Copier does them."""
    template = build_template(
        tmp_path / "template",
        {
            "copier.yml": TINY_SETTINGS,
            "project/[[ _copier_conf.answers_file ]].jinja":
                "[[ _copier_answers | to_nice_yaml ]]",
            "project/README.md": "plain, loses to its templated sibling\n",
            "project/README.md.jinja": "# [[ name ]]\n",
            "project/[[ name ]]/run.sh*": "#!/bin/sh\necho [[ name ]]\n",
            "project/[% if shout %]LOUD.txt[% endif %]": "!\n",
            "project/cache/x.pyc": "bytecode",
            "project/skip-me/a.txt": "excluded with its folder\n",
        },
    )  # fmt: skip
    monkeypatch.setenv("MLOPS_SCAFFOLD_TEMPLATE", str(template))
    (direct, _), (copier, _) = both_ways(tmp_path, {"name": name})
    rendered = tree(direct)
    assert rendered == tree(copier)
    assert rendered["README.md"][1] == f"# {name}\n".encode()
    assert rendered[f"{name}/run.sh"] == (
        0o755,
        b"#!/bin/sh\necho [[ name ]]\n",
    )
    assert ("LOUD.txt" in rendered) == (name == "loud")
    assert not any("pyc" in path or "skip-me" in path for path in rendered)


def test_a_path_that_renders_outside_the_project_is_refused(
    tmp_path: Path, monkeypatch
):
    template = build_template(
        tmp_path / "template",
        {
            "copier.yml": TINY_SETTINGS,
            "project/[[ name ]]/file.txt": "x\n",
        },
    )
    monkeypatch.setenv("MLOPS_SCAFFOLD_TEMPLATE", str(template))
    destination = tmp_path / "out" / "project"
    with pytest.raises(GenerationError, match="outside the project"):
        render_directly(destination, data={"name": "../../escaped"})
    assert not (tmp_path / "escaped").exists()


def test_an_unquoted_yaml_version_gets_a_hint_to_quote_it(tmp_path: Path):
    """`python_version: 3.10` in a data file is the number 3.1 to YAML."""
    with pytest.raises(InvalidAnswerError) as raised:
        render_directly(tmp_path / "p", data={"python_version": 3.10})
    assert "'3.1' is not in" in raised.value.message
    assert "quote it" in raised.value.hint
    assert not (tmp_path / "p").exists()
