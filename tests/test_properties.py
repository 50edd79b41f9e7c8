"""Property-based tests over the answers people type: whatever the
validators accept renders into files that parse and keep the text inert;
whatever they refuse gets a message, never a traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from helpers import generate, invoke
from mlops_scaffold.pipelines.check import check_repository

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
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
