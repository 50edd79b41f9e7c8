"""Schema validation the way each service reads the file.

GitHub workflows are read against GitHub's own definition, the way its
parser reads it (``github_schema``). The other schemas are the ones
check-jsonschema bundles (used as a library): SchemaStore's for a GitHub
``action.yml``, the published pipeline schema for Azure. Azure DevOps
reads every YAML scalar as a string (``enabled: false`` is the string
"false") and expands ``${{ }}`` template expressions before the schema
would apply, so an Azure file is validated after both. Every error is
reported (bounded), each as the deepest error of the branch the value was
meant for (``task: Docker@2`` is judged by the Docker@2 branch, not by the
first branch of an ``anyOf``), in words.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from ..yamlio import line_of
from . import github_schema
from .model import ACTION, AZURE, GITHUB, WORKFLOW, PipelineFile

_SCHEMAS = {
    # (provider, kind) -> check-jsonschema's builtin schema name; GitHub
    # workflows are read by ``github_schema``.
    (GITHUB, ACTION): "vendor.github-actions",
    (AZURE, "pipeline"): "vendor.azure-pipelines",
    (AZURE, "template"): "vendor.azure-pipelines",
}
_DISCRIMINATORS = {"pattern", "const", "enum"}
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


def _schema_name(pipeline: PipelineFile) -> str | None:
    return _SCHEMAS.get((pipeline.provider, pipeline.kind or "workflow"))


def _schema_path(name: str) -> Path:
    # Read the bundled file without importing check_jsonschema, whose
    # package import sets up its whole CLI (a third of a second).
    package = importlib.util.find_spec("check_jsonschema")
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("check_jsonschema")
    return (
        Path(package.submodule_search_locations[0])
        / "builtin_schemas"
        / "vendor"
        / (name.removeprefix("vendor.") + ".json")
    )


# A value holding an expression or macro anywhere is decided at run time.
_EXPRESSION = {"type": "string", "pattern": r"\$(\{\{|\[|\()"}


def _as_the_service_reads(node: Any) -> Any:
    """The Azure schema adjusted to what the service accepts: every value
    is a string (booleans and numbers are written as text); ``ignoreCase``
    values match in any case; and where the schema names fixed values or
    wants a mapping or a list, a template expression or macro (``${{ }}``,
    ``$[ ]``, ``$( )``) may stand instead, to be decided at run time."""
    if isinstance(node, list):
        return [_as_the_service_reads(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _as_the_service_reads(v) for k, v in node.items()}
    kind = node.get("type")
    if kind in ("boolean", "integer", "number"):
        node["type"] = "string"
    elif isinstance(kind, list):
        node["type"] = sorted(
            {
                "string" if t in ("boolean", "integer", "number") else t
                for t in kind
            }
        )
    case_free = node.get("ignoreCase") in ("value", "all")
    if "pattern" in node and case_free:
        node["pattern"] = "(?i)" + node["pattern"]
    if "enum" in node:
        values = [_scalar(v) for v in node["enum"]]
        if case_free and all(isinstance(v, str) for v in values):
            del node["enum"]
            node["pattern"] = (
                "(?i)^(?:" + "|".join(re.escape(v) for v in values) + ")$"
            )
        else:
            node["enum"] = values
    if "const" in node:
        node["const"] = _scalar(node["const"])
    if any(k in node for k in ("pattern", "enum", "const")) or kind in (
        "object",
        "array",
    ):
        return {"anyOf": [node, _EXPRESSION]}
    return node


def _any_task(schema: dict[Any, Any]) -> dict[Any, Any]:
    """Tasks as the service takes them: any ``name@major`` (extensions
    add tasks; names ignore case), with inputs a mapping the task itself
    reads at run time (it ignores unknown inputs and knows aliases and
    defaults that the bundled catalogue does not)."""
    definitions = schema["definitions"]
    # A file may also be a template of variables, steps, jobs or stages.
    schema.pop("oneOf", None)
    schema["anyOf"] = [
        {"$ref": f"#/definitions/{name}"}
        for name in (
            "pipeline",
            "variablesTemplate",
            "stepsTemplate",
            "jobsTemplate",
            "stagesTemplate",
        )  # fmt: skip
        if name == "pipeline" or name in definitions
    ] + [{"type": "string", "pattern": "^$"}]
    # Path filters share the branch-name pattern in the bundled schema,
    # which refuses the `/folder/` paths the service takes.
    if "branchFilter" in definitions:
        definitions["branchFilter"] = {"type": "string", "minLength": 1}
    task = definitions["task"]
    task.pop("anyOf", None)
    properties = task.setdefault("properties", {})
    properties["task"] = {"type": "string", "pattern": r"^\S+@\S+$"}
    properties["inputs"] = {"type": "object"}
    return schema


@functools.cache
def _schema(name: str) -> tuple[dict[Any, Any], bytes]:
    raw = _schema_path(name).read_bytes()
    schema = json.loads(raw)
    if "azure" in name:
        schema = _as_the_service_reads(_any_task(schema))
    raw = json.dumps(schema, sort_keys=True).encode()
    return schema, raw


@functools.cache
def _reference_validator(name: str) -> Any:
    from jsonschema.validators import validator_for

    schema, _ = _schema(name)
    return validator_for(schema)(schema)


@functools.cache
def _fast_validator(name: str) -> Any:
    """The bundled schema compiled by fastjsonschema (several times faster
    than walking it), in memory only: code is never loaded from a cache
    another process could have written (on a shared runner, an earlier
    pull-request job). Only a yes/no: a rejected file is validated again by
    the reference validator, which gives the message and the final word.
    None when fastjsonschema does not support the schema, the one failure
    that is expected; any other failure propagates."""
    import fastjsonschema

    schema, _ = _schema(name)
    try:
        # use_default=False: validate only; never fill defaults into the
        # data the rules read next.
        return fastjsonschema.compile(schema, use_default=False)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None


def as_azure_reads_it(data: Any) -> Any:
    """Template expressions unnested (check-jsonschema's transform) and
    every scalar a string, as Azure DevOps reads YAML."""
    from check_jsonschema.transforms.azure_pipelines import (
        AzurePipelinesDataError,
        traverse_data,
    )

    data = _without_assertions(data)
    try:
        data = traverse_data(data)
    except (AzurePipelinesDataError, TypeError, AttributeError):
        pass  # the schema reports the shape
    if isinstance(data, dict) and isinstance(data.get("parameters"), dict):
        # A template's parameters in the older form (name: default).
        data = {k: v for k, v in data.items() if k != "parameters"}
    return _strings(data)


_CONDITIONAL = re.compile(r"^\$\{\{\s*(if|elseif|else)\b")


def _is_assertion(body: Any) -> bool:
    """A compile-time branch written to fail on purpose (a template's
    parameter check): its body is a message, not pipeline content: a
    sentence, or entries keyed by a sentence or by a ``${{ 'text' }}``
    literal. No key or value the pipeline schema wants there has a space
    in it; a stray word (``hello``) stays a schema error."""
    if isinstance(body, str):
        return " " in body.strip()  # a message, not a stray word
    items = body if isinstance(body, list) else [body]
    for item in items:
        if isinstance(item, str) and " " in item.strip():
            return True
        if isinstance(item, dict) and any(
            isinstance(k, str)
            and (" " in k.strip() or re.match(r"^\$\{\{\s*'", k))
            and not _CONDITIONAL.match(k)
            for k in item
        ):
            return True
    return False


def _without_assertions(data: Any) -> Any:
    """The document without its deliberate compile-time assertions: Azure
    reports them only when their condition holds, so they are the
    template author's, not a schema error."""
    if isinstance(data, dict):
        return {
            k: _without_assertions(v)
            for k, v in data.items()
            if not (
                isinstance(k, str)
                and _CONDITIONAL.match(k)
                and _is_assertion(v)
            )
        }
    if isinstance(data, list):
        kept = [_without_assertions(v) for v in data]
        return [
            new
            for old, new in zip(data, kept, strict=True)
            if not (isinstance(old, dict) and old and new == {})
        ]
    return data


def _strings(data: Any) -> Any:
    if isinstance(data, dict):
        return {_scalar(k): _strings(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_strings(v) for v in data]
    return _scalar(data)


def _string_keys(data: Any) -> Any:
    """Every mapping key as text (GitHub reads keys as strings; a schema's
    key patterns cannot match a number)."""
    if isinstance(data, dict):
        return {
            k if isinstance(k, str) else str(_scalar(k)): _string_keys(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_string_keys(v) for v in data]
    return data


def _scalar(value: Any) -> Any:
    if value is None:
        return ""  # an empty value is an empty string to the service
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _branches(error: Any) -> list[list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for child in error.context:
        if child.schema == _EXPRESSION or (
            child.validator == "pattern"
            and (
                child.validator_value == _EXPRESSION["pattern"]
                # SchemaStore's `expressionSyntax` (GitHub): "or an
                # expression" says nothing about the value meant here.
                or str(child.validator_value).startswith("^\\$\\{\\{")
            )
        ):
            continue
        grouped.setdefault(child.relative_schema_path[0], []).append(child)
    return list(grouped.values())


def _best_leaves(error: Any, memo: dict[int, list[Any]]) -> list[Any]:
    """The innermost errors of the branch meant for the value."""
    if id(error) in memo:
        return memo[id(error)]
    leaves = [error]
    branches = _branches(error) if error.context else []
    if branches:
        scored = [
            (
                _branch_rank(
                    error, [x for e in b for x in _best_leaves(e, memo)]
                ),
                i,
            )
            for i, b in enumerate(branches)
        ]
        best = branches[min(scored)[1]]
        leaves = [x for e in best for x in _best_leaves(e, memo)]
    memo[id(error)] = leaves
    return leaves


def _branch_rank(parent: Any, leaves: list[Any]) -> tuple[Any, ...]:
    """A branch whose discriminator (a pattern, const or enum one key
    down) or type does not match was not meant for this value; among the
    rest, the one that matched furthest before its first complaint, then
    the one with the fewest complaints."""
    level = len(parent.absolute_path)
    wrong = any(
        leaf.validator in _DISCRIMINATORS
        and len(leaf.absolute_path) == level + 1
        for leaf in leaves
    )
    wrong_type = any(
        leaf.validator == "type" and len(leaf.absolute_path) == level
        for leaf in leaves
    )
    depths = [len(leaf.absolute_path) for leaf in leaves]
    return (wrong, wrong_type, -min(depths), len(leaves), -max(depths))


def describe(error: Any) -> str:
    """A schema error in words, naming the key or value."""
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    value = error.instance
    kind = error.validator
    if kind == "additionalProperties":
        allowed = set((error.schema.get("properties") or {}).keys())
        extra = sorted(str(k) for k in value if k not in allowed)
        return f"{where}: unknown key {', '.join(f'`{e}`' for e in extra)}" + (
            f" (expected one of: {', '.join(sorted(allowed)[:12])})"
            if allowed
            else ""
        )
    if kind == "required":
        missing = [r for r in error.validator_value if r not in value]
        return f"{where}: missing {', '.join(f'`{m}`' for m in missing)}"
    if kind == "type":
        expected = error.validator_value
        expected = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_TYPE_NAMES.get(t, str(t)) for t in expected)
        return f"{where}: {_short(value)} should be {wanted}"
    if kind in ("enum", "const"):
        options = (
            error.validator_value if kind == "enum" else [error.validator_value]
        )
        listed = ", ".join(f"`{o}`" for o in options[:12])
        return f"{where}: {_short(value)} is not one of {listed}"
    if kind == "pattern":
        return f"{where}: {_short(value)} does not have the expected form"
    message = error.message
    return (
        f"{where}: {message[:197] + '...' if len(message) > 200 else message}"
    )


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if not isinstance(value, str) else f"`{value}`"
    return text if len(text) <= 60 else text[:57] + "..."


#: At most this many schema errors per file: every error a reader needs,
#: bounded for a file a pull request may fill with them.
MAX_ERRORS = 20


def schema_errors(pipeline: PipelineFile) -> list[tuple[int, str]]:
    """(line, message) of every schema error (bounded), in document order:
    one error never hides the others. Each is the deepest complaint of the
    branch the value was meant for."""
    if pipeline.provider == GITHUB and pipeline.kind == WORKFLOW:
        located = {
            (line_of(pipeline.lines, path), message): None
            for path, message in github_schema.errors(pipeline.data, MAX_ERRORS)
        }
        return sorted(located, key=lambda error: error[0])
    name = _schema_name(pipeline)
    if name is None:
        return []
    data = _as_read(pipeline)
    fast = _fast_validator(name)
    if fast is not None:
        try:
            fast(data)
            return []
        except Exception:  # noqa: BLE001 - a gate: anything but a clean pass
            pass  # the reference validator has the last word
    memo: dict[int, list[Any]] = {}
    found: dict[tuple[int, str], None] = {}
    for error in _reference_validator(name).iter_errors(data):
        for leaf in _best_leaves(error, memo):
            where = line_of(pipeline.lines, tuple(leaf.absolute_path))
            found.setdefault((where, describe(leaf)), None)
        if len(found) >= MAX_ERRORS:
            break
    return sorted(found)[:MAX_ERRORS]


def _as_read(pipeline: PipelineFile) -> Any:
    if pipeline.provider == AZURE:
        return as_azure_reads_it(pipeline.data)
    return _string_keys(pipeline.data)  # `1:` is the key "1" to GitHub
