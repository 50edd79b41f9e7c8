"""Rebuild the corpus from fetched mirrors (not run by the tests).

    python tests/corpus/vendor.py /work/.mirror

Copies the pipeline files (found by `check`'s own discovery: workflows,
composite actions, Azure Pipelines files and the templates they include)
of each source below at its commit, keeping their paths (templates are
included by relative path), and writes LICENSES.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mlops_scaffold.pipelines.discovery import discover

HERE = Path(__file__).resolve().parent
# (owner/name, licence, licence file, at most this many files)
SOURCES = [
    ("actions/starter-workflows", "MIT", "LICENSE", 400),
    ("microsoft/azure-pipelines-yaml", "MIT", "LICENSE", 100),
    ("Azure/mlops-v2", "MIT", "LICENSE", 50),
    ("Azure/azure-sdk-tools", "MIT", "LICENSE", 160),
    ("Azure/azure-dev", "MIT", "LICENSE", 90),
    ("Azure/azure-devops-cli-extension", "MIT", "LICENSE", 60),
    ("Azure/azureml-examples", "MIT", "LICENSE", 80),
    ("microsoft/azure-pipelines-agent", "MIT", "LICENSE", 40),
    ("pypa/pip", "MIT", "LICENSE.txt", 20),
    ("pypa/gh-action-pypi-publish", "BSD-3-Clause", "LICENSE.md", 10),
    ("cli/cli", "MIT", "LICENSE", 20),
    ("ipython/ipython", "BSD-3-Clause", "LICENSE", 20),
]


# Microsoft's starter pipelines are wizard templates (`{{ branch }}`,
# `{{ pool }}`...): vendored as the new-pipeline wizard fills them in.
WIZARD = "microsoft/azure-pipelines-yaml"


def fill_wizard(text: str) -> str:
    text = re.sub(r"\{\{#if \w+\}\}.*?\{\{/if\}\}", "", text, flags=re.S)
    text = re.sub(
        r"\{\{#toAlphaNumericString [^}]*\}\}(.*?)\{\{/toAlphaNumericString\}\}",
        "myapp", text, flags=re.S,
    )  # fmt: skip
    text = re.sub(
        r"\{\{#shortGuid\}\}(.*?)\{\{/shortGuid\}\}", "1a2b3c4d", text
    )
    text = text.replace("{{ branch }}", "main")
    text = text.replace("{{ pool }}", "vmImage: ubuntu-latest")
    return re.sub(r"\{\{ *[\w.]+ *\}\}", "example-value", text)


def main(mirrors: Path) -> None:
    rows = []
    for repo, licence, licence_file, limit in SOURCES:
        git_dir = mirrors / repo.replace("/", "+") / "repo"
        commit = subprocess.run(
            ["git", "-C", str(git_dir), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        listed = subprocess.run(
            ["git", "-C", str(git_dir), "ls-tree", "-r", "--name-only", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.splitlines()  # fmt: skip
        wanted = [n for n in listed if n.endswith((".yml", ".yaml"))]
        with tempfile.TemporaryDirectory() as tmp:
            for name in [*wanted, licence_file]:
                blob = subprocess.run(
                    ["git", "-C", str(git_dir), "show", f"HEAD:{name}"],
                    capture_output=True, check=False,
                )  # fmt: skip
                if blob.returncode == 0:  # absent from the snapshot: skip
                    path = Path(tmp) / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    data = blob.stdout
                    if repo == WIZARD and name.startswith("templates/"):
                        data = fill_wizard(data.decode()).encode()
                    path.write_bytes(data)
            found = discover(Path(tmp))
            chosen = [s.relative for s in found.sources][:limit]
            target = HERE / repo
            shutil.rmtree(target, ignore_errors=True)
            for relative in chosen:
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(tmp) / relative, destination)
            shutil.copyfile(Path(tmp) / licence_file, target / "LICENSE")
        rows.append((repo, commit, licence, chosen))
    lines = [
        "# Corpus licences",
        "",
        "Real-world pipeline files, vendored unchanged to test `check` on",
        "what real repositories hold (`tests/test_check_corpus.py`). Each",
        "folder is `OWNER/NAME/` with the files at their paths in that",
        "repository at the commit named, and the repository's `LICENSE`.",
        "Rebuild with `python tests/corpus/vendor.py MIRRORS`.",
        "",
    ]
    for repo, commit, licence, chosen in rows:
        lines += [
            f"## {repo}",
            "",
            *(
                [
                    "The `templates/` files are the new-pipeline wizard's",
                    "templates, vendored with their `{{ }}` placeholders",
                    "filled in as the wizard does (`vendor.py: fill_wizard`).",
                    "",
                ]
                if repo == WIZARD
                else []
            ),
            f"- Source: https://github.com/{repo} at commit `{commit}`",
            f"- Licence: {licence} (copy in `{repo}/LICENSE`)",
            f"- Files ({len(chosen)}):",
            "",
        ]
        lines += [f"  - `{path}`" for path in chosen]
        lines.append("")
    (HERE / "LICENSES.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
