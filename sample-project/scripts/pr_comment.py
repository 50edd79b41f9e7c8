"""Post a markdown file as ONE pull-request comment, updated in place.

    python scripts/pr_comment.py PR_NUMBER FILE

The file's first line is a marker (`<!-- ... -->`); a comment that starts
with the same marker is edited instead of adding another one on every push.
Needs `gh` with GH_TOKEN and GH_REPO.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def gh(*args: str, input: str | None = None) -> str:
    result = subprocess.run(
        ["gh", *args], capture_output=True, text=True, input=input
    )
    if result.returncode != 0:
        raise RuntimeError(f"gh {args[0]}: {result.stderr.strip()}")
    return result.stdout


def main(argv: list[str]) -> int:
    number, body_file = argv
    body = Path(body_file).read_text(encoding="utf-8")
    marker = body.splitlines()[0]
    repo = os.environ["GH_REPO"]
    comments = json.loads(
        gh("api", f"repos/{repo}/issues/{number}/comments?per_page=100")
    )
    mine = [c for c in comments if c.get("body", "").startswith(marker)]
    payload = json.dumps({"body": body})
    if mine:
        target = f"repos/{repo}/issues/comments/{mine[0]['id']}"
        gh("api", "--method", "PATCH", target, "--input", "-", input=payload)
        print(f"updated comment {mine[0]['id']}")
    else:
        target = f"repos/{repo}/issues/{number}/comments"
        gh("api", "--method", "POST", target, "--input", "-", input=payload)
        print("created the review comment")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
