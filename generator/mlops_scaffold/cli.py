"""The command line: declares switches and calls the library.

Heavy imports happen inside each command so that ``--help`` and
``--version`` stay fast. ``main`` is the one place where errors become exit
codes: 0 success, 1 a problem found or an operation that failed, 2 bad
usage or input, 130 interrupted.
"""

from __future__ import annotations

import os
import sys

import click

from . import __version__
from .errors import ScaffoldError, UsageError

CI_CHOICES = ("github", "azure", "both")
IAC_CHOICES = ("bicep", "terraform", "both", "none")


def _echo(message: object = "", err: bool = False) -> None:
    """Every line the tool prints, but `check --format github`'s
    annotations: no text from a file or a path becomes a CI command."""
    from .pipelines.findings import no_workflow_commands

    click.echo(no_workflow_commands(str(message)), err=err)


def data_options(function):
    """--data / --data-file, shared by the commands that take answers."""
    function = click.option(
        "--data-file",
        type=click.Path(dir_okay=False),
        help="A YAML file of answers (KEY: VALUE), applied before --data.",
    )(function)
    function = click.option(
        "--data",
        "data_items",
        multiple=True,
        metavar="KEY=VALUE",
        help="Set an answer; repeatable. Example: --data description='Card "
        "fraud scoring'.",
    )(function)
    return function


def collect_answers(data_items, data_file, **shortcuts) -> dict:
    from .answers import (
        SHORTCUT_OPTIONS,
        load_data_file,
        parse_data_options,
    )

    answers: dict = {}
    if data_file is not None:
        from pathlib import Path

        answers.update(load_data_file(Path(data_file)))
    answers.update(parse_data_options(data_items))
    for option, value in shortcuts.items():
        if value is not None:
            answers[SHORTCUT_OPTIONS[option]] = value
    return answers


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlops-scaffold")
def cli() -> None:
    """Scaffold ML repositories that ship models the DevOps way.

    A new repository comes with training, evaluation and scoring code, CI
    and CD pipelines (GitHub Actions and/or Azure Pipelines), Bicep and/or
    Terraform for the Azure ML platform, monitoring and sprint-planning
    files, all passing their own checks from the first commit.
    """


@cli.command()
@click.argument("destination", type=click.Path())
@click.option(
    "--defaults",
    is_flag=True,
    help="Ask nothing; use the default for every answer not given.",
)
@data_options
@click.option(
    "--ci",
    type=click.Choice(CI_CHOICES),
    help="CI/CD provider (default: github).",
)
@click.option(
    "--iac",
    type=click.Choice(IAC_CHOICES),
    help="Infrastructure-as-code language (default: bicep).",
)
@click.option(
    "--git/--no-git",
    default=True,
    help="Make the folder a git repository with one initial commit "
    "(default: on).",
)
@click.option(
    "--template-source",
    metavar="SRC",
    help="Where `copier update` finds the template later, recorded as "
    "_src_path with _commit v<version> (default: this tool's repository). "
    "A local git repository with that tag is rendered from.",
)
def new(
    destination, defaults, data_items, data_file, ci, iac, git,
    template_source,
) -> None:  # fmt: skip
    """Create a new ML repository in DESTINATION (a new or empty folder).

    \b
    Examples:
      mlops-scaffold new fraud-model
      mlops-scaffold new fraud-model --defaults
      mlops-scaffold new fraud-model --ci both --iac terraform --defaults \\
          --data description="Card fraud scoring"
    """
    from .create import new_project

    answers = collect_answers(data_items, data_file, ci=ci, iac=iac)
    if not defaults and not sys.stdin.isatty():
        raise UsageError(
            "No terminal to ask the questions on.",
            hint="add --defaults to the same command: the answers given "
            "with --ci, --iac and --data stay, the other questions take "
            "their defaults",
        )
    project = new_project(
        destination,
        data=answers,
        defaults=defaults,
        git=git,
        template_source=template_source,
    )
    _echo(f"Created {project.answers['project_name']!r} in {project.path}")
    for step in project.next_steps():
        _echo(f"Next: {step}")


@cli.command()
@click.argument("path", default=".", type=click.Path(), required=False)
@click.option(
    "--pretend", is_flag=True, help="Show what would change; write nothing."
)
@click.option(
    "--branch",
    metavar="NAME",
    help="Commit the update on a new branch, for review as a pull request.",
)
@data_options
@click.option(
    "--ci", type=click.Choice(CI_CHOICES), help="Change the CI provider."
)
@click.option(
    "--iac", type=click.Choice(IAC_CHOICES), help="Change the IaC language."
)
def update(path, pretend, branch, data_items, data_file, ci, iac) -> None:
    """Bring the installed template's improvements into the project at PATH.

    A three-way merge by git, offline: your edits survive, template changes
    and new files arrive, files you deleted stay deleted, and overlapping
    edits become ordinary conflicts (listed; exit 1). Needs a clean working
    tree, and never writes over files git does not track.

    The mlops-scaffold/template branch moves only once the merge is
    committed: after `git merge --abort` (or a closed pull request) the
    next update brings the change again; after you resolve conflicts and
    commit, the next update records it. A project made by plain `copier
    copy` gets the branch from what Copier recorded.

    \b
    Examples:
      mlops-scaffold update --pretend
      mlops-scaffold update --branch template-update
      mlops-scaffold update --ci both        # add Azure Pipelines
    """
    from .errors import UpdateConflictError
    from .update import update_project

    answers = collect_answers(data_items, data_file, ci=ci, iac=iac)
    result = update_project(path, data=answers, pretend=pretend, branch=branch)
    for note in result.notes:
        _echo(f"Note: {note}.")
    if result.up_to_date:
        _echo("Already up to date with the installed template.")
        return
    verb = "Would change" if pretend else "Changed"
    _echo(f"{verb} {len(result.changed)} file(s):")
    for name in result.changed:
        _echo(f"  {name}")
    for name in result.kept_deleted:
        _echo(f"  kept deleted (you removed it): {name}")
    for name in result.kept_modified:
        _echo(f"  kept (you changed it; the template dropped it): {name}")
    if pretend and result.conflicts:
        raise UpdateConflictError(result.conflicts, pretend=True)
    if result.branch and not pretend:
        _echo(
            f"Committed on branch {result.branch}: open a pull request. "
            "Once it is merged, run `mlops-scaffold update` on the branch it "
            "went into: that records the template version (it moves "
            "mlops-scaffold/template; push that branch too)."
        )


@cli.command()
@click.argument("path", default=".", type=click.Path(), required=False)
@click.option(
    "--defaults",
    is_flag=True,
    help="Ask nothing (the default: adopt infers the answers it can and "
    "uses defaults for the rest; --data sets others).",
)
@click.option(
    "--pretend",
    is_flag=True,
    help="Say what adopt would add and merge; write nothing.",
)
@click.option(
    "--branch",
    metavar="NAME",
    help="Commit the adoption on a new branch NAME (for a pull request) "
    "instead of the current one.",
)
@data_options
@click.option("--ci", type=click.Choice(CI_CHOICES), help="CI/CD provider.")
@click.option("--iac", type=click.Choice(IAC_CHOICES), help="IaC language.")
def adopt(
    path, defaults, pretend, branch, data_items, data_file, ci, iac
) -> None:
    """Add the pipelines to an existing repository at PATH.

    Infers the package, Python version, default branch and CI provider,
    adds every missing piece, merges missing jobs into existing workflows
    and pipelines (every line of yours kept verbatim, or the file left
    alone), never overwrites a file (the template's version goes beside it
    as NAME.mlops-scaffold) nor writes through a symbolic link, and records
    the answers so that `mlops-scaffold update` works later. All or
    nothing: a failure or Ctrl-C puts every file back, and a rerun
    finishes the job.
    """
    from .adopt import adopt_project

    del defaults  # adopt never prompts; the flag is accepted for symmetry
    answers = collect_answers(data_items, data_file, ci=ci, iac=iac)
    result = adopt_project(path, data=answers, pretend=pretend, branch=branch)
    for note in result.notes:
        _echo(f"Note: {note}.")
    if result.already_adopted:
        _echo("Already adopted: nothing to add. Use `mlops-scaffold update`.")
        return
    verb = "Would adopt" if pretend else "Adopted"
    _echo(
        f"{verb} as {result.answers['project_name']!r} "
        f"(package {result.answers['package_name']!r}, "
        f"CI {result.answers['ci_provider']})."
    )
    _echo(f"{'Would add' if pretend else 'Added'} {len(result.added)} file(s).")
    if pretend:
        for name in result.added:
            _echo(f"  {name}")
    for name in result.merged:
        what = "patterns" if name == ".gitignore" else "jobs"
        merged = "would merge" if pretend else "merged"
        _echo(f"  {merged} the missing {what} into {name}")
    for name, beside in result.alongside:
        _echo(
            f"  {name} exists: the template's version is {beside}; "
            "merge what you need"
        )
    for name, why in result.skipped:
        _echo(f"  not added: {name} ({why})", err=True)
    if result.branch and not pretend:
        _echo(
            f"Committed on branch {result.branch}: open a pull request; "
            "push the mlops-scaffold/template branch too."
        )


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "style",
    type=click.Choice(["text", "json", "github", "sarif"]),
    default="text",
    show_default=True,
    help="github prints workflow annotations; sarif is for code scanning.",
)
@click.option(
    "--severity",
    type=click.Choice(["error", "warning", "note"]),
    default=None,
    help="Exit 1 only for findings at or above this severity "
    "(default: note, i.e. any finding; or `severity` in the settings).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False),
    default=None,
    help="The repository when PATHS are files (default: the git top level "
    "of the files, else the current folder).",
)
def check(paths, style, severity, root) -> None:
    """Validate the pipelines of the repository at PATH, or only FILEs.

    Finds GitHub workflows, composite actions and Azure Pipelines files
    (pipelines and templates) by content anywhere in the repository,
    respecting .gitignore. Checks YAML syntax and bounds, the providers'
    schemas as the services read them (every error), expressions (syntax,
    functions, contexts, needs/dependsOn to missing jobs or stages), what
    Azure refuses at queue time (duplicate names, non-integer timeouts),
    and rules: timeouts, production (recognised by names, targets and the
    path from staging) behind an approved environment and after staging
    and its smoke test, OIDC instead of stored secrets and secrets' data
    flow, Azure checkout credentials and script injection; GitHub security
    audits (permissions, pinning, persisted credentials, dangerous
    triggers, template injection) come from zizmor,
    run offline. Suppress with `# mlops-scaffold: ignore[MS204]` on the
    line or the job's line, or in [tool.mlops-scaffold] / .mlops-scaffold.yml.
    Exit 0 clean, 1 findings at or above --severity, 2 bad input.
    """
    from pathlib import Path

    from .pipelines.check import check as run_check
    from .pipelines.report import render

    folders = [Path(p) for p in paths if Path(p).is_dir()]
    files = [Path(p) for p in paths if not Path(p).is_dir()]
    missing = [f for f in files if not f.exists()]
    if missing or (folders and files) or len(folders) > 1:
        raise UsageError(
            f"{missing[0]} is not a folder or a file."
            if missing
            else "Pass one repository folder, or files of one repository.",
            hint="mlops-scaffold check [FOLDER] or check FILE...",
        )
    if files:
        result = run_check(Path(root) if root else None, files)
    else:
        result = run_check(folders[0] if folders else Path(root or "."))
    output = render(result, style)
    if output and style == "github":  # workflow commands on purpose
        click.echo(output)
    elif output:
        _echo(output)
    threshold = severity or result.settings.severity or "note"
    if result.failing(threshold):
        raise click.exceptions.Exit(1)


@cli.command()
@click.argument("path", default=".", type=click.Path(), required=False)
@click.option("--base", required=True, help="The pull request's base ref.")
@click.option("--head", help="The ref to review (default: the working tree).")
@click.option(
    "--format",
    "style",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
)
def review(path, base, head, style) -> None:
    """Explain what a change does to the pipelines (for pull requests).

    Triggers, jobs and stages, needs / dependsOn, environment gates,
    permissions, secrets and variables, actions and commands, per file, with
    the deployment path before and after as Mermaid flowcharts and a risk
    summary. The markdown is made for one pull-request comment, updated in
    place.
    """
    from .pipelines.review import review_change, to_json, to_markdown

    result = review_change(path, base=base, head=head)
    _echo(to_markdown(result) if style == "markdown" else to_json(result))


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"{option} {item!r} is not KEY=VALUE",
                hint=f"e.g. {option} name=value",
            )
        pairs[key.strip()] = value
    return pairs


@cli.command("run")
@click.argument("file", type=click.Path())
@click.option(
    "--job",
    "jobs",
    multiple=True,
    help="Run only this job "
    "(Azure: job or stage) and what it needs; repeatable.",
)
@click.option(
    "--event",
    type=click.Choice(
        ["push", "pull_request", "schedule", "workflow_dispatch"]
    ),
    default="push",
    show_default=True,
    help="What starts the run.",
)
@click.option(
    "--ref",
    default=None,
    help="The branch pushed to, or the pull "
    "request's base (default: the default branch).",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="K=V",
    help="A repository variable (GitHub vars) or pipeline "
    "variable set outside the YAML (Azure).",
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="K=V",
    help="A secret: never printed (masked as ***).",
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="K=V",
    help="A workflow_dispatch input or Azure runtime parameter.",
)
@click.option(
    "--matrix",
    "matrix",
    multiple=True,
    metavar="K=V",
    help="Run only the matrix legs with this value, e.g. "
    "--matrix python-version=3.11 (Azure: the leg name).",
)
@click.option(
    "--include-deployments",
    is_flag=True,
    help="Also run deployment jobs and environment-bound jobs "
    "(they push, deploy and call clouds for real).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="An action or task that is not emulated is an error "
    "instead of a skipped step.",
)
@click.option(
    "--format",
    "style",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def run_command(
    file,
    jobs,
    event,
    ref,
    variables,
    secrets,
    inputs,
    matrix,
    include_deployments,
    strict,
    style,
) -> None:
    """Run a GitHub workflow or an Azure Pipelines FILE on this machine.

    The run planner picks the jobs (and stages) that the event starts;
    they run in dependency order in the working tree, with the services'
    shells, environment, expressions, templates and logging commands
    (checkout, setup-python / UsePythonVersion, setup-uv, cache and
    artifacts are emulated; other actions and tasks are skipped and
    named). Deployment jobs are skipped unless --include-deployments.
    Exit 0 when every job that ran succeeded, 1 when one failed, 2 for
    bad input, 130 when interrupted.
    """
    from pathlib import Path

    from .pipelines.runner import Options, run, summary
    from .pipelines.semantics import Event

    inputs_map = _pairs(inputs, "--input")
    branch = (ref or _default_branch(Path(file))).removeprefix("refs/heads/")
    kind = {"workflow_dispatch": "manual"}.get(event, event)
    if kind == "pull_request":
        the_event = Event.pull_request(branch)
    elif kind == "manual":
        the_event = Event.manual(branch, inputs_map)
    else:
        the_event = Event(kind, branch, inputs=inputs_map)
    options = Options(
        event=the_event,
        jobs=jobs,
        variables=_pairs(variables, "--var"),
        secrets=_pairs(secrets, "--secret"),
        include_deployments=include_deployments,
        strict=strict,
        matrix=_pairs(matrix, "--matrix"),
    )
    echo = click.echo if style == "text" else None
    result = run(file, options, echo=echo)
    if style == "json":
        click.echo(result.to_json())
    else:
        click.echo(summary(result))
    if result.failed:
        raise click.exceptions.Exit(1)


def _default_branch(file) -> str:
    """origin's default branch, else the current branch, else main."""
    from pathlib import Path

    from .gitutil import current_branch, remote_default_branch

    folder = Path(file).resolve().parent
    if not folder.is_dir():
        return "main"
    try:
        return remote_default_branch(folder) or current_branch(folder) or "main"
    except ScaffoldError:
        return "main"


@cli.group()
def notebook() -> None:
    """Turn exploratory notebooks into production scripts."""


@notebook.command("convert")
@click.argument("notebooks", nargs=-1, required=True, type=click.Path())
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="The script to write, or a folder for several notebooks "
    "(default: beside each notebook).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 when a script is out of date (for CI).",
)
def notebook_convert(notebooks, output, check) -> None:
    """Convert NOTEBOOKS into linted, formatted Python modules.

    Outputs, raw cells and cells tagged "skip" are dropped, the "parameters"
    cell becomes module constants, markdown becomes comments, and top-level
    code moves into main(). IPython syntax is read by IPython's own rules;
    magics and shell escapes are never run: they become comments (with a
    warning). A cell that is not valid Python is refused, naming the cell
    and line. Files not written by this converter are never overwritten,
    several scripts are written all or nothing, and the same notebook
    always gives the same bytes.
    """
    from pathlib import Path

    from .errors import FindingsError, MalformedFileError, ScaffoldError
    from .notebook import converter

    nb = converter()
    try:
        conversions, stale = nb.convert_notebooks(
            [Path(n) for n in notebooks],
            Path(output) if output else None,
            check=check,
        )
    except nb.NotebookError as error:
        raise MalformedFileError(
            error.path,
            error.detail,
            hint=error.hint
            or "convert only .ipynb files saved by Jupyter (format 4)",
        ) from error
    except nb.DependencyError as error:
        raise ScaffoldError(
            f"Converting the notebooks failed: {error}",
            hint="check the ruff settings that apply to the output folder "
            "(pyproject.toml, ruff.toml); if ruff is missing, reinstall "
            "mlops-scaffold, which installs it",
        ) from error
    except nb.ConverterDefect as error:
        raise ScaffoldError(str(error)) from error
    except OSError as error:
        raise ScaffoldError(
            f"Writing the scripts failed ({error}); nothing was changed.",
            hint="check the output folder's permissions and free space",
        ) from error
    for conversion in conversions:
        if conversion.ipython:
            _echo(
                f"warning: {conversion.source}: IPython-only code became "
                "comments: " + "; ".join(conversion.ipython),
                err=True,
            )
        if conversion.undefined:
            _echo(
                f"warning: {conversion.source}: used but never defined in "
                "the notebook (the script stops there unless something "
                "defines it): " + "; ".join(conversion.undefined),
                err=True,
            )
    if check:
        if stale:
            raise FindingsError(
                "These scripts are out of date with their notebooks: "
                + ", ".join(str(t) for t in stale),
                hint=f"run `{_convert_command(notebooks, output)}` and "
                "commit the scripts",
            )
        _echo("All scripts are up to date with their notebooks.")
        return
    for conversion in conversions:
        state = "written" if conversion.target in stale else "unchanged"
        _echo(f"{conversion.source} -> {conversion.target} ({state})")


def _convert_command(notebooks, output) -> str:
    """The command that updates what ``--check`` found stale: the same
    notebooks and the same -o, without --check."""
    import shlex

    words = ["mlops-scaffold", "notebook", "convert", *map(str, notebooks)]
    if output:
        words += ["-o", str(output)]
    return shlex.join(words)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; the one place where errors turn into exit codes."""
    try:
        result = cli.main(
            args=argv, prog_name="mlops-scaffold", standalone_mode=False
        )
    except click.exceptions.Abort:
        _echo("Aborted.", err=True)
        return 130
    except KeyboardInterrupt:
        _echo("Interrupted; nothing was changed.", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except ScaffoldError as error:
        _echo(f"Error: {error}", err=True)
        return error.exit_code
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except Exception as error:  # noqa: BLE001 - the one catch-all
        if os.environ.get("MLOPS_SCAFFOLD_DEBUG") == "1":
            raise
        _echo(internal_error(error), err=True)
        return 1
    return result if isinstance(result, int) else 0


def internal_error(error: Exception) -> str:
    """One paragraph for an exception no rule expected: what happened, that
    it is our bug, and how to report it."""
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        what = f"the operating system refused: {error.strerror}{where}"
    else:
        what = f"{type(error).__name__}: {error}"
    try:
        from .render import repository_url

        issues = f"{repository_url().removesuffix('.git')}/issues"
    except Exception:  # noqa: BLE001 - the report must not fail too
        issues = "the project's issue tracker"
    return (
        f"Internal error: {what}. This is probably a bug in mlops-scaffold "
        f"{__version__}; please report it at {issues} with the command you "
        "ran (run it again with MLOPS_SCAFFOLD_DEBUG=1 to see the "
        "traceback). A repository it was changing is left as it was, or "
        "as the message above says."
    )


def run() -> None:
    code = main()
    # Done and reported: a Ctrl-C or SIGTERM from here on (interpreter
    # shutdown) would only kill a finished run with the signal's status.
    import signal

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":
    run()
