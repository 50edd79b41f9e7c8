"""Findings the engine itself makes: the file cannot be read, does not
match the provider's schema, or an auditor could not run."""

from ..model import AZURE, GITHUB
from . import RuleMeta

ENGINE = (
    RuleMeta(
        "MS001",
        "auditor-unavailable",
        "error",
        "the GitHub security audits (permissions, pinning, persisted "
        "credentials, dangerous triggers, template injection) come from "
        "zizmor, which could not run, so those defects went unchecked",
        "install zizmor (`pip install zizmor`, a dependency of "
        "mlops-scaffold) or put it on PATH",
        (GITHUB,),
    ),
    RuleMeta(
        "MS100",
        "yaml-syntax",
        "error",
        "the file is not valid YAML, or is over a size, nesting or alias "
        "bound for files a pull request may change",
        "fix the YAML at the line shown",
    ),
    RuleMeta(
        "MS101",
        "schema",
        "error",
        "the file does not match the provider's schema, so the service "
        "rejects it or ignores part of it",
        "correct the key or value the message names",
        (GITHUB, AZURE),
    ),
)
