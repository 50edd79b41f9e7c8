"""The GitHub security rules, found by zizmor (see ``..zizmor``): each
zizmor audit that has an id of ours is registered here with our words;
other zizmor audits keep zizmor's name (``zizmor/<audit>``)."""

from ..model import GITHUB
from . import RuleMeta

DOCS = "https://docs.zizmor.sh/audits/#"

# zizmor audit -> our rule id
MAPPED = {
    "excessive-permissions": "MS201",
    "unpinned-uses": "MS202",
    "artipacked": "MS203",
    "dangerous-triggers": "MS208",
    "template-injection": "MS209",
}

AUDITED = tuple(
    RuleMeta(
        rule_id, title, severity, why, fix, (GITHUB,), "zizmor", DOCS + audit
    )
    for rule_id, title, severity, why, fix, audit in (
        (
            "MS201",
            "least-privilege-permissions",
            "error",
            "without explicit, read-only top-level permissions the token can "
            "write to the repository",
            "add `permissions: {}` (or `contents: read`) at the top and grant "
            "writes per job",
            "excessive-permissions",
        ),
        (
            "MS202",
            "action-pinned-to-sha",
            "error",
            "a tag or branch can be moved to other code; only a full commit "
            "SHA is immutable",
            "pin `uses:` to the 40-character commit SHA with the version in a "
            "comment",
            "unpinned-uses",
        ),
        (
            "MS208",
            "no-dangerous-triggers",
            "error",
            "pull_request_target and workflow_run run with secrets and a "
            "write token on events an outsider can cause",
            "use `pull_request`, or never check out or run the pull request's "
            "code in such a workflow",
            "dangerous-triggers",
        ),
    )
)
