"""Answering the template's questions without asking anyone.

``new --defaults``, ``update`` and ``adopt`` never prompt, so all they need
from Copier before rendering is its questionnaire rule: take each question
of ``copier.yml`` in order; use the answer given, else the user default,
else the default rendered from the answers so far; cast it to the
question's type; check it against its choices and its validator; keep
``when: false`` answers out of the answers file. This module applies that
rule on one Jinja environment that compiles each template once, which is
most of why ``new`` costs less than Copier (``benchmarks/README.md``).

Interactive runs still use Copier's prompts, and the tests hold both paths
to the same answers and byte-identical projects for every option.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Any

from .errors import GenerationError, InvalidAnswerError
from .template import ANSWERS_FILE, copier_config, questions, template_root

#: Question keys this module understands; a template that uses any other
#: (secret, multiselect, ...) has to be rendered by Copier.
SUPPORTED_KEYS = frozenset(
    {"type", "help", "default", "choices", "validator", "when", "placeholder"}
)

#: ``copier.yml`` settings this module honours; others need Copier.
SUPPORTED_SETTINGS = frozenset(
    {
        "_min_copier_version",
        "_subdirectory",
        "_templates_suffix",
        "_answers_file",
        "_exclude",
        "_envops",
        "_message_after_copy",
    }
)


@dataclass(frozen=True)
class Answers:
    """Every answer (computed ones included) and those the answers file
    records, in question order."""

    values: dict[str, Any]
    recorded: dict[str, Any]
    #: The ``_copier_conf`` and ``_folder_name`` that templates may use.
    special: dict[str, Any]


def check_template_supported() -> None:
    """Refuse a template that uses Copier features this module lacks."""
    settings = {key for key in copier_config() if key.startswith("_")}
    unsupported = sorted(settings - SUPPORTED_SETTINGS)
    for name, spec in questions().items():
        unsupported += [
            f"{name}.{key}" for key in sorted(set(spec) - SUPPORTED_KEYS)
        ]
    if unsupported:
        raise GenerationError(
            "The template uses Copier features that mlops-scaffold does not "
            f"render itself: {', '.join(unsupported)}.",
            hint="render it with `copier copy` instead",
        )


def environment():
    """The Jinja environment Copier would build for this template: its
    ``_envops``, sandboxed, with the Ansible filters Copier loads."""
    return _environment(template_root())


@functools.cache
def _environment(root: Path):
    from jinja2 import FileSystemLoader
    from jinja2.sandbox import SandboxedEnvironment

    envops = dict(copier_config().get("_envops", {}))
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(root)),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        **envops,
    )
    env.globals["pathjoin"] = _pathjoin
    return env


def _pathjoin(*parts: str, mode: str = "posix") -> str:
    kinds = {"posix": PurePosixPath, "windows": PureWindowsPath}
    return str(kinds.get(mode, PurePath)(*parts))


def compiled(source: str):
    """A template string compiled once per process (Copier compiles it
    again every time it renders it)."""
    return _compiled(environment(), source)


@functools.cache
def _compiled(env, source: str):
    return env.from_string(source)


def render_text(source: Any, context: Mapping[str, Any]) -> Any:
    """Render a templated value as Copier does: strings are templates,
    lists are rendered item by item, anything else is kept."""
    if isinstance(source, str):
        return compiled(source).render(context)
    if isinstance(source, list):
        return [render_text(item, context) for item in source]
    return source


def answer(
    data: Mapping[str, Any],
    *,
    destination: Path,
    user_defaults: Mapping[str, Any] | None = None,
) -> Answers:
    """Answer every question from ``data``, then ``user_defaults``, then
    the template's defaults, validating each as Copier does, for a project
    to be rendered into ``destination``."""
    check_template_supported()
    special = _special_names(destination)
    user_defaults = dict(user_defaults or {})
    given = dict(data)
    resolved: dict[str, Any] = {}
    hidden: set[str] = set()
    for name, spec in questions().items():
        question = _Question(name, spec)
        context = {**user_defaults, **given, **resolved, **special}
        if not _cast_to_bool(render_text(spec.get("when", True), context)):
            hidden.add(name)
        if name in given:
            raw = given[name]
        elif name in user_defaults:
            raw = user_defaults[name]
        elif "default" in spec:
            raw = render_text(spec["default"], context)
        else:
            raise InvalidAnswerError(
                f'Invalid answer: Question "{name}" is required',
                hint=f"give it with --data {name}=VALUE",
            )
        value = question.parse(raw, context)
        if name in given or name not in hidden:
            question.validate(value, {**context, name: value})
        resolved[name] = value
    recorded = {
        name: value for name, value in resolved.items() if name not in hidden
    }
    return Answers(values=resolved, recorded=recorded, special=special)


def _special_names(destination: Path) -> dict[str, Any]:
    """What Copier offers templates about the run (the part of its
    ``_copier_conf`` a template can sensibly use)."""
    config = copier_config()
    conf = {
        "answers_file": PurePath(config.get("_answers_file", ANSWERS_FILE)),
        "dst_path": PurePath(destination),
        "src_path": PurePath(template_root()),
        "defaults": True,
        "sep": os.sep,
    }
    return {"_copier_conf": conf, "_folder_name": destination.name}


class _Question:
    def __init__(self, name: str, spec: Mapping[str, Any]) -> None:
        self.name = name
        self.spec = spec
        type_name = spec.get("type") or _type_of(spec.get("default"))
        if type_name not in _CASTS:
            raise GenerationError(
                f"Question {name!r} has the unknown type {type_name!r}."
            )
        self.type_name = type_name

    def cast(self, value: Any) -> Any:
        if value is None and self.type_name not in {"json", "yaml"}:
            raise InvalidAnswerError(
                f"Invalid answer: {self.name} needs a {self.type_name}, "
                "not nothing.",
                hint=f"give it with --data {self.name}=VALUE",
            )
        try:
            return _CASTS[self.type_name](value)
        except (TypeError, AttributeError):
            if self.type_name in {"json", "yaml"}:
                return value
            raise InvalidAnswerError(
                f"Invalid answer: {value!r} is not a {self.type_name} "
                f"for {self.name}.",
                hint=f"change it with --data {self.name}=VALUE",
            ) from None
        except ValueError as error:
            raise InvalidAnswerError(
                f"Invalid answer: {error}",
                hint=f"change it with --data {self.name}=VALUE",
            ) from None

    def parse(self, value: Any, context: Mapping[str, Any]) -> Any:
        """The value cast to the question's type, and one of its choices."""
        given, value = value, self.cast(value)
        choices = self.spec.get("choices")
        if not choices:
            return value
        if isinstance(choices, str):
            choices = _load_yaml(render_text(choices, context))
        pairs = (
            choices.items()
            if isinstance(choices, dict)
            else ((choice, choice) for choice in choices)
        )
        valid = [self.cast(render_text(v, context)) for _, v in pairs]
        if value in valid:
            return value
        hint = f"change it with --data {self.name}=VALUE"
        if isinstance(given, float) and self.type_name == "str":
            hint = (
                f"quote it in the YAML file ({self.name}: '...'): unquoted, "
                f"YAML reads a version like 3.10 as the number 3.1; or {hint}"
            )
        raise InvalidAnswerError(
            f"Invalid answer: Invalid choice for '{self.name}': "
            f"{value!r} is not in {valid}",
            hint=hint,
        )

    def validate(self, value: Any, context: Mapping[str, Any]) -> None:
        validator = self.spec.get("validator")
        if not validator:
            return
        message = str(render_text(validator, context)).strip()
        if message:
            raise InvalidAnswerError(
                "Invalid answer: Validation error for question "
                f"'{self.name}': {message}",
                hint="change it with --data KEY=VALUE",
            )


def _type_of(default: Any) -> str:
    name = type(default).__name__
    return name if name in _CASTS else "yaml"


def _cast_to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (float, int, Decimal)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode()
    raise ValueError(f"Could not convert {value} to string")


def _cast_to_bool(value: Any) -> bool:
    """Copier's reading of a boolean: numbers, then YAML words."""
    try:
        return bool(float(value))
    except (TypeError, ValueError):
        pass
    if isinstance(value, str):
        lower = value.strip().lower()
        if lower in {"", "n", "no", "f", "false", "off", "~", "null", "none"}:
            return False
        if lower in {"y", "yes", "t", "true", "on"}:
            return True
    return bool(value)


def _load_yaml(text: str) -> Any:
    import yaml

    from .yamlio import load_plain

    try:
        return load_plain(text)
    except yaml.YAMLError as error:
        raise ValueError(str(error)) from None


_CASTS: dict[str, Callable[[Any], Any]] = {
    "bool": _cast_to_bool,
    "float": float,
    "int": int,
    "json": json.loads,
    "str": _cast_to_str,
    "yaml": _load_yaml,
    "path": str,
}
