"""MS101 for GitHub workflows: a workflow read against GitHub's own
definition (``github_definitions``) the way GitHub's parser reads it
(actions/languageservices ``workflow-parser/src/templates/
template-reader.ts``), every error in plain words.

As the reader does:

- a one-of picks by what the YAML holds: a list takes its sequence
  member, a mapping its mapping members, narrowed key by key to those
  that define the key; a scalar any scalar member (nested one-ofs too);
- a number, boolean or empty value that no member takes is tried again as
  text (``5`` is the string "5" where a string is wanted; ``"5"`` is no
  number);
- a ``${{ }}`` expression stands for any value where the place has a
  context, and is refused where it has none; the named values and
  functions it uses must be in that context ("Unrecognized named-value:
  'secrets'" in ``runs-on``), with their numbers of arguments. The
  converter (``if-condition.ts``) checks a plain ``if:`` the same way;
- keys match with case; a key written twice, compared without case, is
  an error; required properties are checked once one mapping is left and
  no key is an expression; the background-step keys (``background``,
  ``wait``, ``wait-all``, ``cancel``) are refused, their feature flag off.

Left to MS212: an expression that does not parse or is not closed, and
names or functions GitHub has nowhere. An expression refused here is
reported once (the reader would also call the text it leaves unexpected).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from .github_definitions import ROOT, Definition, Place, everywhere
from .github_definitions import expected as _expected
from .github_definitions import schema as _schema
from .semantics import ExpressionError, parse
from .semantics.expressions import Call, Ctx, Node, walk

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,98}")
_ID_RULE = (
    ": an id starts with a letter or `_` (not `__`) and holds only letters,"
    " digits, `_` and `-`, under 100 characters"
)
_BACKGROUND = frozenset({"background", "wait", "wait-all", "cancel"})
_BACKGROUND_ONLY = frozenset({"wait", "wait-all", "cancel"})
Path = tuple[Any, ...]
Error = tuple[Path, str]


class _Expression:
    """A value decided at run time."""


_EXPRESSION = _Expression()
_INSERT = _Expression()  # `${{ insert }}`: a key that inserts a mapping


class _Full(Exception):
    """Enough errors for one file."""


def errors(data: Any, limit: int = 20) -> list[Error]:
    """(path, message) of the errors GitHub's reader finds in a workflow's
    data, in document order, at most ``limit``."""
    reader = _Reader(limit)
    try:
        reader.read(data, Place(ROOT), ())
        for path, message in _ids(data):
            reader.error(path, message)
    except _Full:
        pass
    return reader.errors


def _ids(data: Any) -> Iterator[Error]:
    """The converter's rules for ids (``id-builder.ts`` tryAddKnownId):
    job ids, and the step ids of each job, once each."""
    jobs = data.get("jobs") if isinstance(data, dict) else None
    for job_id, job in jobs.items() if isinstance(jobs, dict) else ():
        text = _text(job_id)
        if "${{" in text:
            continue  # refused as an expression already
        if not _ID.fullmatch(text) or text.startswith("__"):
            yield ("jobs", text), f"job id `{text}` is not valid{_ID_RULE}"
        steps = job.get("steps") if isinstance(job, dict) else None
        seen: set[str] = set()
        for index, step in enumerate(steps if isinstance(steps, list) else []):
            raw = step.get("id") if isinstance(step, dict) else None
            if raw is None or isinstance(raw, (dict, list)):
                continue
            step_id, here = _text(raw), ("jobs", text, "steps", index, "id")
            if "${{" in step_id:
                continue  # refused as an expression already
            if not _ID.fullmatch(step_id) or step_id.startswith("__"):
                yield here, f"step id `{step_id}` is not valid{_ID_RULE}"
            elif step_id in seen:
                yield here, f"step id `{step_id}` is used twice in job `{text}`"
            seen.add(step_id)


class _Reader:
    def __init__(self, limit: int) -> None:
        self.schema = _schema()
        self.errors: list[Error] = []
        self.limit = limit

    def error(self, path: Path, message: str) -> None:
        if (path, message) not in self.errors:
            self.errors.append((path, message))
        if len(self.errors) >= self.limit:
            raise _Full

    def read(self, value: Any, place: Place, path: Path) -> None:
        """readValue."""
        if isinstance(value, list):
            sequences = self.schema.of_kind(place.name, "sequence")
            if not sequences:
                self.error(path, _wrong(place, path, "a list"))
                return
            item = place.enter(sequences[0].item_type)
            for index, element in enumerate(value):
                self.read(element, item, (*path, index))
        elif isinstance(value, dict):
            mappings = self.schema.of_kind(place.name, "mapping")
            if not mappings:
                self.error(path, _wrong(place, path, "a mapping"))
            elif (
                len(mappings) > 1
                or mappings[0].properties
                or not mappings[0].loose_key
            ):
                self._known(value, place, mappings, path)
            else:
                self._loose(value, place, mappings[0], path)
        else:
            scalar, failed = self.scalar(value, place, path)
            if not failed:
                self.validate(scalar, place, path)

    def _key(
        self, key: Any, place: Place, path: Path, seen: set[str]
    ) -> tuple[Any, bool]:
        """The key as read (text, or an expression) and whether to read
        its value."""
        text = key if isinstance(key, str) else _text(key)
        read, failed = self.scalar(text, place, (*path, text))
        if failed:
            return read, False
        if isinstance(read, _Expression):
            if not place.context:
                self.error((*path, text), _not_here((*path, text)))
            return read, bool(place.context)
        read = _text(read)
        if read and read.upper() in seen:
            self.error(
                (*path, text),
                f"`{read}` is written twice in {_noun(path)} (keys are "
                "compared without case)",
            )
            return read, False
        seen.add(read.upper())
        return read, True

    def _known(
        self,
        value: dict[Any, Any],
        place: Place,
        mappings: list[Definition],
        path: Path,
    ) -> None:
        """handleMappingWithWellKnownProperties."""
        loose, mappings = mappings[0], list(mappings)
        seen: set[str] = set()
        expression_key = False
        for key, child in value.items():
            here = (*path, key if isinstance(key, str) else _text(key))
            name, go = self._key(key, place, path, seen)
            expression_key |= isinstance(name, _Expression)
            if not go:
                continue
            if isinstance(name, _Expression):
                self.read(child, place.enter("any"), here)
                continue
            matched = [m for m in mappings if name in m.properties]
            if matched:  # matchPropertyAndFilter
                mappings = matched
            if matched and name not in _BACKGROUND:
                inner = place.enter(matched[0].properties[name][0])
                self.read(child, inner, here)
                if name == "if" and isinstance(child, str):
                    self._condition(child, inner, here)
            elif loose.loose_key and not matched:
                self.validate(name, place.enter(loose.loose_key), here, True)
                self.read(child, place.enter(loose.loose_value), here)
            else:
                known = {p for m in mappings for p in m.properties}
                choices = sorted(known - _BACKGROUND)
                self.error(
                    here,
                    f"unexpected key `{name}` in {_noun(path)}"
                    f"{_suggest(name, choices)}; expected one of: "
                    + ", ".join(choices),
                )
        if len(mappings) > 1:
            self.error(path, _ambiguous(mappings, path))
        elif not expression_key:
            for name, (_, required) in mappings[0].properties.items():
                if required and name.upper() not in seen:
                    self.error(path, f"`{name}` is required in {_noun(path)}")

    def _loose(
        self,
        value: dict[Any, Any],
        place: Place,
        mapping: Definition,
        path: Path,
    ) -> None:
        """handleMappingWithAllLooseProperties."""
        keys = place.enter(mapping.loose_key)
        values = place.enter(mapping.loose_value)
        seen: set[str] = set()
        for key, child in value.items():
            here = (*path, key if isinstance(key, str) else _text(key))
            name, go = self._key(key, place, path, seen)
            if go and not isinstance(name, _Expression):
                self.validate(name, keys, here, key=True)
            if go:
                self.read(child, values, here)

    def scalar(self, value: Any, place: Place, path: Path) -> tuple[Any, bool]:
        """parseScalar: text holding ``${{ }}`` is an expression (``${{
        'text' }}`` alone is that text). True when an expression in it is
        refused or broken: the text is then left as it was."""
        if not isinstance(value, str) or "${{" not in value:
            return value, False
        failed, start, i = False, value.index("${{"), 0
        while 0 <= start:
            end, quoted, i = -1, False, start + 3
            while i < len(value):
                if value[i] == "'":
                    quoted = not quoted
                elif not quoted and value[i - 1 : i + 1] == "}}":
                    end, i = i, i + 1
                    break
                i += 1
            if end < 0:
                return value, True  # not closed
            inner = value[start + 3 : end - 1].strip()
            whole = start == 0 and i == len(value)
            if inner.split()[:1] == ["insert"]:  # matchDirective
                if inner == "insert" and whole:
                    return _INSERT, False
                self.error(path, "`${{ insert }}` must be a whole key")
                return value, True
            failed |= not self._allowed(inner, place, path)
            literal = _quoted_text(inner)
            if literal is not None and whole:
                return literal, failed
            start = value.find("${{", i)
        return (value, True) if failed else (_EXPRESSION, False)

    def _allowed(self, inner: str, place: Place, path: Path) -> bool:
        """validateExpression: the expression uses only what its place
        allows; one that does not parse is MS212's (False, silently)."""
        try:
            node = parse(inner, True)
        except ExpressionError:
            return False
        problem = _refused(node, place, _what(path))
        if problem:
            self.error(path, problem)
        return not problem

    def _condition(self, text: str, place: Place, path: Path) -> None:
        """if-condition.ts: a plain ``if:`` is an expression there."""
        if "${{" not in text and text.strip():
            self._allowed(text.strip(), place, path)

    def validate(
        self, value: Any, place: Place, path: Path, key: bool = False
    ) -> None:
        """validate: a scalar (or expression) against the place."""
        if value is _EXPRESSION:
            if not place.context:
                self.error(path, _not_here(path))
            return
        if value is _INSERT:
            self.error(path, "`${{ insert }}` is allowed only as a key")
            return
        scalars = self.schema.scalars(place.name)
        if any(s.takes(value) for s in scalars) or any(
            s.takes(_text(value)) for s in scalars
        ):
            return
        what = f"key `{path[-1]}`" if key else _what(path)
        constants = [s.constant for s in scalars if s.constant]
        self.error(
            path,
            f"{what} must be {_expected(place)}, not {_short(value)}"
            + _suggest(value, constants),
        )


def _refused(node: Node, place: Place, where: str) -> str:
    """What GitHub's expression parser refuses at this place: a named
    value or function it has, but not here ("Unrecognized named-value",
    "Unrecognized function"), or a wrong number of arguments; "" when
    nothing."""
    names, functions = everywhere()
    unavailable, allowed = names - place.names(), place.functions()
    here = f" (it may use {place.shown()})"
    for part in walk(node):
        if isinstance(part, Ctx) and part.name in unavailable:
            if not place.context:
                return f"an expression is not allowed in {where}"
            return f"`{part.name}` is not available in {where}{here}"
        if not isinstance(part, Call):
            continue
        name, count = part.name, len(part.args)
        if name not in allowed:
            if name in functions and not place.context:
                return f"an expression is not allowed in {where}"
            if name in functions:
                name = functions[name]
                return f"`{name}()` is not available in {where}{here}"
            continue
        low, high = allowed[name]
        if not low <= count <= high:
            many = f"{low}" if low == high else f"{low} to {high}"
            many = f"at least {low}" if high >= 2**53 else many
            return f"`{name}()` takes {many} arguments, not {count}"
        if name == "case" and count % 2 == 0:
            return "`case()` takes an odd number of arguments"
    return ""


def _text(value: Any) -> str:
    """A scalar as the reader's toString() writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quoted_text(inner: str) -> str | None:
    """getExpressionString: the text of an expression that is one string
    literal (``'a''b'`` is "a'b"), else None."""
    if len(inner) < 2 or inner[0] != "'" or inner[-1] != "'":
        return None
    body = inner[1:-1]
    return (
        None if body.replace("''", "").count("'") else body.replace("''", "'")
    )


def _wrong(place: Place, path: Path, got: str) -> str:
    return f"{_what(path)} must be {_expected(place)}, not {got}"


def _not_here(path: Path) -> str:
    return f"an expression is not allowed in {_what(path)}"


def _what(path: Path) -> str:
    if not path:
        return "the workflow"
    if isinstance(path[-1], str) and "${{" in path[-1]:
        return f"a key of {_what(path[:-1])}"
    if isinstance(path[-1], int):
        owner = f" of `{path[-2]}`" if len(path) > 1 else ""
        return f"item {path[-1] + 1}{owner}"
    return f"`{path[-1]}`"


def _noun(path: Path) -> str:
    """The mapping at ``path`` in words."""
    if len(path) == 2 and path[0] == "jobs":
        return f"job `{path[1]}`"
    if len(path) == 4 and path[0] == "jobs" and path[2] == "steps":
        return f"step {path[3] + 1} of job `{path[1]}`"
    return _what(path)


def _ambiguous(mappings: list[Definition], path: Path) -> str:
    """Too few keys to tell which mapping is meant: the keys that would
    (the candidates' required ones, else the reader's list)."""
    keys = {
        name
        for m in mappings
        for name, (_, required) in m.properties.items()
        if required
    } - _BACKGROUND_ONLY
    if not keys:
        every = [name for m in mappings for name in m.properties]
        keys = {n for n in every if every.count(n) == 1} - _BACKGROUND
    listed = ", ".join(f"`{k}`" for k in sorted(keys))
    return f"{_noun(path)} does not say what it is: add one of {listed}"


def _suggest(value: Any, choices: list[str]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, choices, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _short(value: Any) -> str:
    if value is None or value == "":
        return "empty"
    text = _text(value)
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"
