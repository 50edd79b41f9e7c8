"""Azure Pipelines at compile time: templates, ``${{ }}`` expressions,
conditional insertion (``${{ if }}`` / ``elseif`` / ``else``), ``${{ each
}}`` and parameters are resolved first, as Azure does before any condition
runs; the result (``CompiledAzure``) is what the planner, the validators,
the rules and the local runner read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import yamlio
from ...errors import MalformedFileError
from .azure import AZURE, PREDEFINED_PREFIXES, predefined_variables
from .evaluator import Evaluator
from .expressions import parse
from .graph import depends_on
from .types import (
    MAYBE,
    ContextObject,
    Event,
    ExpressionError,
    Unknown,
    typed,
)


def load(path: Path | str) -> Any:
    """A workflow or pipeline file as plain data (``on`` stays a string),
    read as every file a pull request may change is: bounded in size,
    nesting and alias expansion (an included template too)."""
    path = Path(path)
    data, _ = yamlio.load_untrusted(yamlio.read_bounded(path), path)
    return data


# --------------------------------------------------------------------------
# Templates, ${{ }} and conditional insertion

_MAX_TEMPLATE_DEPTH = 20  # Azure allows 100 files and 20 levels of nesting
_MAX_TEMPLATE_BYTES = 1_000_000
TEMPLATE_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


class Compiler:
    """Resolves ``${{ }}`` expressions, conditional insertion and local
    templates, as Azure does before any condition runs."""

    def __init__(
        self,
        root: Path | None,
        predefined: Mapping[str, Any],
        base: Path | None = None,
    ) -> None:
        self.root = root
        self.predefined = predefined
        self.bases = [base or root]

    def context(
        self, parameters: Mapping[str, Any], variables: Mapping[str, Any]
    ) -> dict[str, Any]:
        static = {**self.predefined, **variables}
        return {
            "parameters": ContextObject(
                dict(parameters),
                lambda key: Unknown(f"parameters.{key} is not declared"),
            ),
            "variables": ContextObject(static, _compile_time_miss),
        }

    def value(self, text: str, ctx: Mapping[str, Any]) -> Any:
        try:
            return self._value(text, ctx)
        except ExpressionError as error:
            return Unknown(f"template expression in {text!r}: {error}")

    def _value(self, text: str, ctx: Mapping[str, Any]) -> Any:
        evaluator = Evaluator(ctx, AZURE)
        whole = re.fullmatch(r"\s*\$\{\{(.*)\}\}\s*", text, re.DOTALL)
        if whole and "${{" not in whole.group(1):
            return evaluator.eval(parse(whole.group(1), github=False))
        parts: list[str] = []
        last = 0
        for match in TEMPLATE_EXPR.finditer(text):
            parts.append(text[last : match.start()])
            value = evaluator.eval(parse(match.group(1), github=False))
            if isinstance(value, Unknown):
                return value
            parts.append(evaluator.to_str(value))
            last = match.end()
        parts.append(text[last:])
        return "".join(parts)

    def expand(self, node: Any, ctx: Mapping[str, Any]) -> Any:
        if isinstance(node, str):
            return self.value(node, ctx) if "${{" in node else node
        if isinstance(node, list):
            return self.expand_list(node, ctx)
        if isinstance(node, Mapping):
            return self.expand_map(node, ctx)
        return node

    def directive(self, key: str) -> tuple[str, str] | None:
        match = re.fullmatch(
            r"\s*\$\{\{\s*(if|elseif|else|each)\b(.*?)\}\}\s*", key, re.DOTALL
        )
        if not match:
            return None
        return match.group(1), match.group(2).strip()

    def branches(
        self, items: list[tuple[str, str, Any]], ctx: Mapping[str, Any]
    ) -> list[tuple[Any, Any]]:
        """(certainty, body) for each if/elseif/else chain member that may
        be inserted: certainty True, or an Unknown."""
        chosen: list[tuple[Any, Any]] = []
        unsure: Unknown | None = None
        for kind, expr, body in items:
            if kind == "else":
                value: Any = True
            else:
                value = Evaluator(ctx, AZURE).truthy(
                    Evaluator(ctx, AZURE).eval(parse(expr, False))
                )
            if value is False:
                continue
            if isinstance(value, Unknown) or unsure:
                unsure = unsure or value
                chosen.append((Unknown(unsure.reason), body))
                continue
            chosen.append((True, body))
            break
        return chosen

    def expand_map(
        self, node: Mapping[Any, Any], ctx: Mapping[str, Any]
    ) -> Any:
        out: dict[Any, Any] = {}
        chain: list[tuple[str, str, Any]] = []
        keys = list(node.items())

        def flush() -> None:
            for certainty, body in self.branches(chain, ctx):
                expanded = self.expand(body, ctx)
                if isinstance(expanded, Mapping):
                    out.update(expanded)
                    if isinstance(certainty, Unknown):
                        out[MAYBE] = certainty.reason
            chain.clear()

        for key, value in keys:
            directive = (
                self.directive(str(key)) if isinstance(key, str) else None
            )
            if directive and directive[0] in ("if", "elseif", "else"):
                if directive[0] == "if":
                    flush()
                chain.append((directive[0], directive[1], value))
                continue
            flush()
            if directive:  # each
                for inner in self.each(directive[1], ctx):
                    if isinstance(inner, Unknown):
                        out[MAYBE] = inner.reason
                        break
                    expanded = self.expand(value, inner)
                    if isinstance(expanded, Mapping):
                        out.update(expanded)
                continue
            new_key = self.expand(key, ctx) if isinstance(key, str) else key
            if isinstance(new_key, Unknown):
                out[MAYBE] = new_key.reason
                continue
            out[new_key] = self.expand(value, ctx)
        flush()
        return out

    def expand_list(self, node: list[Any], ctx: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = []
        chain: list[tuple[str, str, Any]] = []

        def flush() -> None:
            for certainty, body in self.branches(chain, ctx):
                items = self.expand(body, ctx)
                for item in items if isinstance(items, list) else [items]:
                    if isinstance(certainty, Unknown) and isinstance(
                        item, Mapping
                    ):
                        item = {**item, MAYBE: certainty.reason}
                    out.append(item)
            chain.clear()

        for item in node:
            if isinstance(item, Mapping) and len(item) == 1:
                ((key, value),) = item.items()
                directive = (
                    self.directive(str(key)) if isinstance(key, str) else None
                )
                if directive and directive[0] in ("if", "elseif", "else"):
                    if directive[0] == "if":
                        flush()
                    chain.append((directive[0], directive[1], value))
                    continue
                if directive:
                    flush()
                    for inner in self.each(directive[1], ctx):
                        if isinstance(inner, Unknown):
                            out.append({MAYBE: inner.reason})
                            break
                        items = self.expand(value, inner)
                        out.extend(
                            items if isinstance(items, list) else [items]
                        )
                    continue
            flush()
            out.append(self.expand(item, ctx))
        flush()
        return out

    def each(self, text: str, ctx: Mapping[str, Any]) -> list[Any]:
        """The contexts of ``${{ each name in collection }}``, one per item
        (a mapping's items have ``key`` and ``value``); [Unknown] when the
        collection is not known."""
        match = re.fullmatch(r"(\w+)\s+in\s+(.+)", text.strip(), re.DOTALL)
        if not match:
            return [Unknown(f"`${{{{ each {text} }}}}` is not valid")]
        try:
            collection = Evaluator(ctx, AZURE).eval(
                parse(match.group(2), github=False)
            )
        except ExpressionError as error:
            return [Unknown(f"`${{{{ each {text} }}}}`: {error}")]
        if isinstance(collection, Unknown):
            return [collection]
        if isinstance(collection, ContextObject):
            items: list[Any] = [
                ContextObject(
                    {"key": collection.names.get(k, k), "value": v},
                    lambda _: None,
                )
                for k, v in collection.values.items()
            ]
        elif isinstance(collection, list):
            items = collection
        else:
            items = []
        name = match.group(1).lower()  # names are case-insensitive
        return [{**ctx, name: item} for item in items]

    def template(
        self,
        item: Mapping[Any, Any],
        ctx: Mapping[str, Any],
        kind: str,
        whole: bool = False,
    ) -> list[Any]:
        """The stages or jobs a ``- template:`` item inserts (``whole``: the
        stages of an ``extends:`` template, which may hold jobs or steps)."""
        name = str(item.get("template"))
        reason = f"template `{name}` is not resolved"
        base = self.bases[-1]
        if self.root is None or base is None or "@" in name:
            return [{kind: f"template:{name}", MAYBE: reason}]
        if len(self.bases) > _MAX_TEMPLATE_DEPTH:
            return [{kind: f"template:{name}", MAYBE: reason + " (too deep)"}]
        # Relative to the including file; a leading / means the repo root.
        if name.startswith("/"):
            path = (self.root / name.lstrip("/")).resolve()
        else:
            path = (base / name).resolve()
        try:
            path.relative_to(self.root.resolve())
        except ValueError:
            return [
                {
                    kind: f"template:{name}",
                    MAYBE: reason + " (outside the root)",
                }
            ]
        if not path.is_file():
            return [
                {kind: f"template:{name}", MAYBE: reason + " (no such file)"}
            ]
        if path.stat().st_size > _MAX_TEMPLATE_BYTES:
            return [{kind: f"template:{name}", MAYBE: reason + " (too big)"}]
        try:
            data = load(path)
        except (OSError, UnicodeDecodeError, MalformedFileError) as error:
            return [{kind: f"template:{name}", MAYBE: f"{reason}: {error}"}]
        if not isinstance(data, Mapping):
            return [{kind: f"template:{name}", MAYBE: reason}]
        passed = item.get("parameters") or {}
        params = _parameter_defaults(data.get("parameters"))
        params.update(
            {
                str(k): self.expand(v, ctx)
                for k, v in (
                    passed.items() if isinstance(passed, Mapping) else []
                )
            }
        )
        inner = {
            **ctx,
            "parameters": ContextObject(
                params,
                lambda key: Unknown(
                    f"parameters.{key} is not declared in {name}"
                ),
            ),
        }
        self.bases.append(path.parent)
        try:
            source = data.get(kind + "s") or []
            if kind == "variable" and isinstance(source, Mapping):
                source = [{"name": k, "value": v} for k, v in source.items()]
            if whole and "stages" not in data:
                source = _implicit_stages(data)
            body = self.flatten(self.expand(source, inner), inner, kind)
            if kind == "stage":  # their job templates: relative to this file
                body = [
                    {**item, "jobs": self.flatten(item["jobs"], inner, "job")}
                    if isinstance(item, Mapping) and "jobs" in item
                    else item
                    for item in body
                ]
            if kind in ("stage", "job"):
                body = [self.job_steps(item, inner) for item in body]
            return body
        finally:
            self.bases.pop()

    def job_steps(self, item: Any, ctx: Mapping[str, Any]) -> Any:
        """``item`` (a stage or job) with the step templates of its jobs
        (and deployment lifecycle hooks) inserted, relative to the file
        being read."""
        if not isinstance(item, Mapping):
            return item
        out = dict(item)
        if isinstance(out.get("variables"), list):
            out["variables"] = self.flatten(out["variables"], ctx, "variable")
        if isinstance(out.get("jobs"), list):
            out["jobs"] = [self.job_steps(job, ctx) for job in out["jobs"]]
        if isinstance(out.get("steps"), list):
            out["steps"] = self.flatten(out["steps"], ctx, "step")
        strategy = out.get("strategy")
        if isinstance(strategy, Mapping):
            out["strategy"] = {
                name: {
                    hook: (
                        self.job_steps(body, ctx)
                        if isinstance(body, Mapping)
                        else body
                    )
                    for hook, body in spec.items()
                }
                if isinstance(spec, Mapping)
                else spec
                for name, spec in strategy.items()
            }
        return out

    def flatten(
        self, items: Any, ctx: Mapping[str, Any], kind: str
    ) -> list[Any]:
        out: list[Any] = []
        for item in items if isinstance(items, list) else []:
            if _is_reference(item):
                inserted = self.template(item, ctx, kind)
                if MAYBE in item:
                    inserted = [{**i, MAYBE: item[MAYBE]} for i in inserted]
                out.extend(inserted)
            else:
                out.append(item)
        return out


def _implicit_stages(data: Mapping[Any, Any]) -> list[Any]:
    """The stage list of a pipeline written with only jobs or steps."""
    if "jobs" in data:
        return [{"stage": "__default", "jobs": data.get("jobs") or []}]
    return [
        {
            "stage": "__default",
            "jobs": [{"job": "Job", "steps": data.get("steps")}],
        }
    ]


def _compile_time_miss(name: str) -> Any:
    """A variable a template expression cannot see: null, except predefined
    variables the planner does not model (some exist at compile time)."""
    if name.lower().startswith(PREDEFINED_PREFIXES):
        return Unknown(f"predefined variable {name} is not modelled")
    return None


def _parameter_defaults(spec: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if isinstance(spec, list):
        for item in spec:
            if isinstance(item, Mapping) and "name" in item:
                values[str(item["name"])] = _as_azure_value(item.get("default"))
    elif isinstance(spec, Mapping):  # the older form: name: default
        values = {str(k): _as_azure_value(v) for k, v in spec.items()}
    return values


def _parameter_types(spec: Any) -> dict[str, str]:
    return {
        str(item["name"]): str(item.get("type", "string")).lower()
        for item in (spec if isinstance(spec, list) else [])
        if isinstance(item, Mapping) and "name" in item
    }


def _as_azure_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Mapping):
        return ContextObject(
            {str(k): _as_azure_value(v) for k, v in value.items()},
            lambda _: None,
        )
    if isinstance(value, list):
        return [_as_azure_value(v) for v in value]
    return str(value)


def variables_of(spec: Any) -> tuple[dict[str, Any], bool]:
    """Variables defined in a ``variables:`` block, and whether it pulls in
    a variable group or template (whose values are not known)."""
    values: dict[str, Any] = {}
    opaque = False
    if isinstance(spec, Mapping):
        for k, v in spec.items():
            if k == MAYBE:
                opaque = True
            else:
                values[str(k)] = v
    elif isinstance(spec, list):
        for item in spec:
            if not isinstance(item, Mapping):
                continue
            if MAYBE in item or "group" in item or "template" in item:
                opaque = True
            if "name" in item:
                values[str(item["name"])] = item.get("value")
    return values, opaque


@dataclass
class AzureUnit:
    """A stage or job as compiled. ``origin`` is the template reference in
    the compiled file that inserted it (None: written in the file)."""

    id: str
    kind: str
    raw: Mapping[Any, Any]
    depends: list[str]
    stage: str | None = None
    origin: str | None = None


def _is_reference(item: Any) -> bool:
    """A ``- template:`` item (not a job or stage that names one)."""
    return (
        isinstance(item, Mapping)
        and "template" in item
        and not (set(item) & {"job", "deployment", "stage"})
    )


def _traced(
    compiler: Compiler, items: Any, ctx: Mapping[str, Any], kind: str
) -> list[tuple[Any, str | None]]:
    """``compiler.flatten(items)``, each item with the template reference
    it came from."""
    out: list[tuple[Any, str | None]] = []
    for item in items if isinstance(items, list) else []:
        origin = str(item["template"]) if _is_reference(item) else None
        out.extend((i, origin) for i in compiler.flatten([item], ctx, kind))
    return out


def _structure(
    data: Mapping[Any, Any], compiler: Compiler, ctx: Mapping[str, Any]
) -> list[tuple[AzureUnit, list[AzureUnit]]]:
    """Stages, each with its jobs (a pipeline with only jobs or steps has
    one implicit stage)."""
    extends = data.get("extends")
    raw_stages: list[tuple[Any, str | None]]
    if "stages" in data:
        raw_stages = _traced(compiler, data.get("stages") or [], ctx, "stage")
    elif isinstance(extends, Mapping) and not ({"jobs", "steps"} & set(data)):
        origin = str(extends.get("template"))
        raw_stages = [
            (stage, origin)
            for stage in compiler.template(extends, ctx, "stage", whole=True)
        ]
    else:
        raw_stages = [(stage, None) for stage in _implicit_stages(data)]
    out: list[tuple[AzureUnit, list[AzureUnit]]] = []
    previous: str | None = None
    for index, (raw, stage_origin) in enumerate(raw_stages):
        if not isinstance(raw, Mapping):
            continue
        if isinstance(raw.get("dependsOn"), Unknown):
            raw = {**raw, MAYBE: raw["dependsOn"].reason}
        stage_id = str(raw.get("stage") or f"Stage{index + 1}")
        stage = AzureUnit(
            stage_id,
            "stage",
            raw,
            depends_on(raw, previous, True),
            origin=stage_origin,
        )
        previous = stage_id
        jobs: list[AzureUnit] = []
        for jindex, (job, job_origin) in enumerate(
            _traced(compiler, raw.get("jobs") or [], ctx, "job")
        ):
            if not isinstance(job, Mapping):
                continue
            if isinstance(job.get("dependsOn"), Unknown):
                job = {**job, MAYBE: job["dependsOn"].reason}
            job = compiler.job_steps(job, ctx)
            kind = "deployment" if "deployment" in job else "job"
            job_id = str(job.get(kind) or f"Job{jindex + 1}")
            jobs.append(
                AzureUnit(
                    job_id,
                    kind,
                    job,
                    depends_on(job, None, False),
                    stage_id,
                    stage_origin or job_origin,
                )
            )
        out.append((stage, jobs))
    return out


@dataclass
class CompiledAzure:
    """An Azure pipeline after template expansion, as the agent receives
    it: ``structure`` holds every stage with its jobs (steps and step
    templates inserted), ``root_vars`` the root variables."""

    expanded: Mapping[str, Any]
    structure: list[tuple[AzureUnit, list[AzureUnit]]]
    compiler: Compiler
    parameters: dict[str, Any]
    root_vars: dict[str, Any]
    root_opaque: bool
    predefined: dict[str, Any]


def compile_azure(
    data: Mapping[Any, Any], event: Event, root: Path | None, base: Path | None
) -> CompiledAzure:
    """Expand templates, ``${{ }}`` and parameters (with ``event.inputs``
    as runtime parameters): the one template expander of the planner, the
    validators and the local runner."""
    predefined = predefined_variables(event, data)
    compiler = Compiler(root, predefined, base)
    parameters = _parameter_defaults(data.get("parameters"))
    types = _parameter_types(data.get("parameters"))
    parameters.update(
        {
            str(k): _as_azure_value(typed(v, types.get(str(k))))
            for k, v in event.inputs.items()
        }
    )
    root_vars_raw, _ = variables_of(data.get("variables"))
    compile_ctx = compiler.context(
        parameters,
        {
            k: v
            for k, v in root_vars_raw.items()
            if isinstance(v, str) and "${{" not in v
        },
    )
    expanded = compiler.expand(
        {k: v for k, v in data.items() if k not in ("parameters",)}, compile_ctx
    )
    root_vars, root_opaque = variables_of(expanded.get("variables"))
    compile_ctx = compiler.context(parameters, root_vars)
    structure = _structure(expanded, compiler, compile_ctx)
    return CompiledAzure(
        expanded,
        structure,
        compiler,
        parameters,
        root_vars,
        root_opaque,
        predefined,
    )
