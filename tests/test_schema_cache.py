"""Schemas are compiled in memory: nothing a cache folder holds is ever
executed (on a shared runner, an earlier job could have written it)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import textwrap

from test_check_review import CLEAN_AZURE, CLEAN_GITHUB

from mlops_scaffold.pipelines import schema


def test_check_never_runs_code_from_the_cache_folder(tmp_path):
    cache = tmp_path / "cache"
    planted = cache / "mlops-scaffold"
    planted.mkdir(parents=True)
    marker = tmp_path / "executed"
    payload = f"open({str(marker)!r}, 'w').write('x')\nvalidate = print\n"
    # The names the earlier code imported (schema name, hash of the
    # schema, not of the file), so the test fails on it.
    for name in ("vendor.azure-pipelines", "vendor.github-workflows"):
        digest = hashlib.sha256(schema._schema(name)[1]).hexdigest()[:16]
        stem = re.sub(r"\W", "_", name)
        (planted / f"{stem}_{digest}_v7.py").write_text(payload)
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text(CLEAN_GITHUB)
    (repo / "azure-pipelines.yml").write_text(CLEAN_AZURE)
    before = sorted(p.name for p in planted.iterdir())
    script = textwrap.dedent(
        f"""
        import os, sys
        os.environ["XDG_CACHE_HOME"] = {str(cache)!r}
        os.environ["HOME"] = {str(tmp_path)!r}
        from mlops_scaffold.pipelines import schema
        from mlops_scaffold.pipelines.check import check
        result = check({str(repo)!r})
        assert not [f for f in result.findings if f.rule == "MS101"], result
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert sorted(p.name for p in planted.iterdir()) == before
