"""sample-project/ is exactly what `mlops-scaffold new sample-project
--defaults` writes; regenerate it with `python -m mlops_scaffold new
sample-project --defaults --no-git` after removing the folder."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO
from helpers import generate, snapshot


def test_sample_project_matches_a_fresh_generation(tmp_path: Path):
    fresh = generate(tmp_path / "sample-project", git=False)
    committed = snapshot(REPO / "sample-project")
    regenerated = snapshot(fresh)
    missing = sorted(set(regenerated) - set(committed))
    extra = sorted(set(committed) - set(regenerated))
    changed = sorted(
        name
        for name in set(committed) & set(regenerated)
        if committed[name] != regenerated[name]
    )
    assert (missing, extra, changed) == ([], [], []), (
        "sample-project/ drifted from the template: run "
        "`rm -rf sample-project && mlops-scaffold new sample-project "
        "--defaults --no-git`"
    )
