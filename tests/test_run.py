"""`mlops-scaffold run`, GitHub Actions semantics: small repositories
built here whose workflows write files, run the way a new user would run
them, and checked against what the service does (GitHub "Workflow
syntax", "Contexts", "Workflow commands", "Metadata syntax")."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO
from mlops_scaffold.errors import UnsupportedPipelineError
from mlops_scaffold.pipelines.runner import Options, run
from mlops_scaffold.pipelines.semantics import Event


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    return root


def gh(tmp_path: Path, workflow: str, **files: str) -> Path:
    return repo(tmp_path, {".github/workflows/ci.yml": workflow, **files})


def execute(root: Path, file: str = ".github/workflows/ci.yml", **options):
    options.setdefault("event", Event.push("main"))
    options.setdefault("tool_cache", root.parent / "tools")
    return run(root / file, Options(**options), root=root)


def statuses(result) -> dict[str, str]:
    return {job.id: job.status for job in result.jobs}


def steps(result, job: str) -> list[tuple[str, str]]:
    (found,) = [j for j in result.jobs if j.id == job]
    return [(s.name, s.status) for s in found.steps]


def read(root: Path, name: str) -> str:
    return (root / name).read_text(encoding="utf-8")


def test_env_layers_innermost_wins_and_github_files_carry_on(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        env: {LEVEL: workflow, ONLY_WORKFLOW: w}
        jobs:
          a:
            runs-on: ubuntu-latest
            env: {LEVEL: job}
            steps:
              - env: {LEVEL: step}
                run: echo "$LEVEL $ONLY_WORKFLOW" > step.txt
              - run: echo "$LEVEL" > job.txt
              - run: |
                  echo "ADDED=from-env-file" >> "$GITHUB_ENV"
                  mkdir -p bin && printf '#!/bin/sh\\necho tool\\n' > bin/tool
                  chmod +x bin/tool && echo "$PWD/bin" >> "$GITHUB_PATH"
                  { echo "multi<<EOF"; echo one; echo two; echo EOF; } \\
                    >> "$GITHUB_ENV"
              - run: echo "$ADDED ${{ env.ADDED }} $(tool) $multi" > later.txt
        """,
    )
    result = execute(root)
    assert statuses(result) == {"a": "success"}
    assert read(root, "step.txt") == "step w\n"
    assert read(root, "job.txt") == "job\n"
    assert read(root, "later.txt") == (
        "from-env-file from-env-file tool one\ntwo\n"
    )


def test_the_env_context_holds_declared_values_only(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        env: {FROM_WORKFLOW: w}
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - env: {OWN: mine}
                run: >-
                  echo "[${{ env.OWN }}] [${{ env.FROM_WORKFLOW }}]
                  [${{ env.HOME }}] [$GITHUB_REF_NAME] [$GITHUB_JOB]" > ctx.txt
              - env: {CALLER: from-the-caller}
                uses: ./.github/actions/show
        """,
        **{
            ".github/actions/show/action.yml": """
            runs:
              using: composite
              steps:
                - shell: bash
                  run: echo "$CALLER $FROM_WORKFLOW" > composite.txt
            """
        },
    )
    assert statuses(execute(root)) == {"a": "success"}
    assert read(root, "ctx.txt") == "[mine] [w] [] [main] [a]\n"
    assert read(root, "composite.txt") == "from-the-caller w\n"


def test_outputs_across_steps_and_jobs(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          produce:
            runs-on: ubuntu-latest
            outputs:
              answer: ${{ steps.calc.outputs.answer }}
            steps:
              - id: calc
                run: echo "answer=42" >> "$GITHUB_OUTPUT"
              - id: legacy
                run: echo "::set-output name=old::style"
              - run: >-
                  echo "${{ steps.calc.outputs.answer }}
                  ${{ steps.legacy.outputs.old }}" > same-job.txt
          consume:
            needs: produce
            runs-on: ubuntu-latest
            steps:
              - run: >-
                  echo "${{ needs.produce.outputs.answer }}
                  ${{ needs.produce.result }}" > other-job.txt
        """,
    )
    assert statuses(execute(root)) == {
        "produce": "success",
        "consume": "success",
    }
    assert read(root, "same-job.txt") == "42 style\n"
    assert read(root, "other-job.txt") == "42 success\n"


@pytest.mark.parametrize(
    ("shell", "script", "status"),
    [
        (None, "false | true", "success"),  # bash -e {0}: no pipefail
        ("bash", "false | true", "failure"),  # -eo pipefail
        ("sh", "false; echo unreachable", "failure"),  # sh -e
        (None, "false\necho unreachable", "failure"),  # -e
        ("python", "import sys; sys.exit(0 if 1 else 1)", "success"),
        ("python", "raise SystemExit(3)", "failure"),
        ("bash {0}", "false; true", "success"),  # a custom shell: no -e
    ],
)
def test_the_documented_shells(tmp_path, shell, script, status):
    step = {"run": script, **({"shell": shell} if shell else {})}
    workflow = {
        "on": "push",
        "jobs": {"a": {"runs-on": "ubuntu-latest", "steps": [step]}},
    }
    root = gh(tmp_path, json.dumps(workflow))
    assert statuses(execute(root)) == {"a": status}


def test_defaults_run_and_working_directory(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        defaults:
          run: {shell: bash, working-directory: sub}
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - run: pwd > here.txt
              - working-directory: .
                run: pwd > root.txt
        """,
        **{"sub/.keep": ""},
    )
    assert statuses(execute(root)) == {"a": "success"}
    assert read(root, "sub/here.txt").strip().endswith("/repo/sub")
    assert read(root, "root.txt").strip().endswith("/repo")


def test_a_missing_working_directory_fails_the_step(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - run: echo hi
                working-directory: nowhere
        """,
    )
    assert statuses(execute(root)) == {"a": "failure"}


def test_status_functions_and_continue_on_error(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - id: soft
                run: exit 2
                continue-on-error: true
              - run: >-
                  echo "${{ steps.soft.outcome }}
                  ${{ steps.soft.conclusion }} ${{ job.status }}" > soft.txt
              - run: exit 1
              - run: echo never > never.txt
              - if: failure()
                run: echo "${{ job.status }}" > failure.txt
              - if: always()
                run: echo always > always.txt
              - if: success()
                run: echo no > success.txt
        """,
    )
    result = execute(root)
    assert statuses(result) == {"a": "failure"}
    assert read(root, "soft.txt") == "failure success success\n"
    assert read(root, "failure.txt") == "failure\n"
    assert read(root, "always.txt") == "always\n"
    assert not (root / "never.txt").exists()
    assert not (root / "success.txt").exists()
    assert [s for _, s in steps(result, "a")] == [
        "success",
        "success",
        "failure",
        "skipped",
        "success",
        "success",
        "skipped",
    ]


def test_needs_chain_failure_and_always(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          a: {runs-on: x, steps: [{run: exit 1}]}
          b: {runs-on: x, needs: a, steps: [{run: echo b}]}
          c:
            runs-on: x
            needs: [a, b]
            if: always()
            steps:
              - run: >-
                  echo "${{ needs.a.result }} ${{ needs.b.result }}" > c.txt
          d:
            runs-on: x
            needs: a
            if: failure()
            steps: [{run: echo d > d.txt}]
        """,
    )
    assert statuses(execute(root)) == {
        "a": "failure",
        "b": "skipped",
        "c": "success",
        "d": "success",
    }
    assert read(root, "c.txt") == "failure skipped\n"


COMPOSITE = """
name: greet
inputs:
  who: {description: who, default: world}
  greeting: {description: greeting, default: "${{ github.event_name }}"}
outputs:
  said:
    description: what it said
    value: ${{ steps.say.outputs.text }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      env:
        WHO: ${{ inputs.who }}
      run: |
        echo "text=${{ inputs.greeting }} $WHO" >> "$GITHUB_OUTPUT"
        echo "FROM_ACTION=yes" >> "$GITHUB_ENV"
        test -f "$GITHUB_ACTION_PATH/action.yml"
        test -f "${{ github.action_path }}/action.yml"
"""


def test_local_composite_action_inputs_defaults_and_outputs(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - id: one
                uses: ./.github/actions/greet
              - id: two
                uses: $/.github/actions/greet
                with: {who: you}
              - run: >-
                  echo "${{ steps.one.outputs.said }},
                  ${{ steps.two.outputs.said }}, $FROM_ACTION" > said.txt
        """,
        **{".github/actions/greet/action.yml": COMPOSITE},
    )
    assert statuses(execute(root)) == {"a": "success"}
    assert read(root, "said.txt") == "push world, push you, yes\n"


def test_a_composite_run_step_without_shell_is_bad_input(tmp_path):
    action = COMPOSITE.replace("      shell: bash\n", "")
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          a: {runs-on: x, steps: [{uses: ./.github/actions/greet}]}
        """,
        **{".github/actions/greet/action.yml": action},
    )
    with pytest.raises(UnsupportedPipelineError, match="needs `shell:`"):
        execute(root)


def test_reusable_local_workflow_with_inputs_and_outputs(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          call:
            uses: ./.github/workflows/reusable.yml
            with: {word: hello}
          after:
            needs: call
            runs-on: x
            steps:
              - run: echo "${{ needs.call.outputs.echoed }}" > after.txt
        """,
        **{
            ".github/workflows/reusable.yml": """
            on:
              workflow_call:
                inputs:
                  word: {type: string, required: true}
                  times: {type: number, default: 2}
                outputs:
                  echoed:
                    value: ${{ jobs.inner.outputs.out }}
            jobs:
              inner:
                runs-on: x
                outputs:
                  out: ${{ steps.s.outputs.out }}
                steps:
                  - id: s
                    run: >-
                      echo "out=${{ inputs.word }} x${{ inputs.times }}"
                      >> "$GITHUB_OUTPUT"
            """
        },
    )
    result = execute(root)
    assert statuses(result) == {"call / inner": "success", "after": "success"}
    assert read(root, "after.txt") == "hello x2\n"


def test_matrix_legs_and_the_matrix_filter(tmp_path):
    workflow = """
        on: push
        jobs:
          t:
            runs-on: x
            strategy:
              matrix:
                n: [1, 2]
                include: [{n: 3, extra: yes}]
            steps:
              - run: echo "${{ matrix.n }}${{ matrix.extra }}" >> legs.txt
        """
    root = gh(tmp_path, workflow)
    result = execute(root)
    assert sorted(statuses(result)) == ["t (1)", "t (2)", "t (3, yes)"]
    assert sorted(read(root, "legs.txt").split()) == ["1", "2", "3yes"]
    (root / "legs.txt").unlink()
    execute(root, matrix={"n": "2"})
    assert read(root, "legs.txt") == "2\n"


def test_matrix_include_follows_the_documented_rules(tmp_path):
    # "Workflow syntax": jobs.<job_id>.strategy.matrix.include (its example)
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          t:
            runs-on: x
            strategy:
              matrix:
                fruit: [apple, pear]
                animal: [cat, dog]
                include:
                  - color: green
                  - color: pink
                    animal: cat
                  - fruit: apple
                    shape: circle
                  - fruit: banana
                  - fruit: banana
                    animal: cat
            steps:
              - run: >-
                  echo "${{ matrix.fruit }}-${{ matrix.animal }}-${{
                  matrix.color }}-${{ matrix.shape }}" >> legs.txt
        """,
    )
    execute(root)
    assert sorted(read(root, "legs.txt").split()) == sorted(
        [
            "apple-cat-pink-circle",
            "apple-dog-green-circle",
            "pear-cat-pink-",
            "pear-dog-green-",
            "banana---",
            "banana-cat--",
        ]
    )


def test_fail_fast_cancels_the_other_legs_and_matrix_from_json(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          plan:
            runs-on: x
            outputs:
              legs: ${{ steps.p.outputs.legs }}
            steps:
              - id: p
                run: echo 'legs=["a","b"]' >> "$GITHUB_OUTPUT"
          t:
            needs: plan
            runs-on: x
            strategy:
              matrix:
                leg: ${{ fromJSON(needs.plan.outputs.legs) }}
            steps:
              - run: echo ${{ matrix.leg }} >> legs.txt; exit 1
          soft:
            runs-on: x
            continue-on-error: true
            steps: [{run: exit 1}]
          after:
            needs: soft
            runs-on: x
            steps:
              - run: echo "${{ needs.soft.result }}" > soft.txt
        """,
    )
    result = execute(root)
    assert statuses(result) == {
        "plan": "success",
        "t (a)": "failure",
        "t (b)": "skipped",
        "soft": "success",
        "after": "success",
    }
    assert read(root, "legs.txt") == "a\n"
    assert read(root, "soft.txt") == "success\n"


def test_a_python_that_is_not_installed_skips_the_leg(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          t:
            runs-on: x
            strategy:
              matrix:
                python: ["2.1"]
            steps:
              - uses: actions/setup-python@v5
                with: {python-version: "${{ matrix.python }}"}
              - run: echo never > never.txt
        """,
    )
    (job,) = execute(root).jobs
    assert (job.status, job.reason) == (
        "skipped",
        "Python 2.1 is not installed here",
    )
    assert not (root / "never.txt").exists()


def test_setup_python_puts_the_requested_python_first(tmp_path):
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    root = gh(
        tmp_path,
        f"""
        on: push
        jobs:
          a:
            runs-on: x
            steps:
              - uses: actions/checkout@v4
              - id: py
                uses: actions/setup-python@v5
                with: {{python-version: "{version}"}}
              - run: >-
                  python -c "import sys; print(sys.version[:4])" > v.txt;
                  echo "${{{{ steps.py.outputs.python-version }}}}" >> v.txt
        """,
    )
    assert statuses(execute(root)) == {"a": "success"}
    first, second = read(root, "v.txt").split()
    assert first.startswith(version) and second.startswith(version)


def test_deployments_are_skipped_unless_included(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          deploy:
            runs-on: x
            environment: production
            steps: [{run: echo deployed > deployed.txt}]
        """,
    )
    (job,) = execute(root).jobs
    assert job.status == "skipped"
    assert "--include-deployments" in job.reason
    assert not (root / "deployed.txt").exists()
    execute(root, include_deployments=True)
    assert read(root, "deployed.txt") == "deployed\n"


def test_not_triggered_by_the_event_runs_nothing(tmp_path):
    root = gh(
        tmp_path,
        """
        on: {push: {branches: [release]}}
        jobs:
          a: {runs-on: x, steps: [{run: echo ran > ran.txt}]}
        """,
    )
    (job,) = execute(root).jobs
    assert job.status == "skipped" and "not triggered" in job.reason
    assert not (root / "ran.txt").exists()


def test_pull_request_event_and_job_if(tmp_path):
    root = gh(
        tmp_path,
        """
        on: [push, pull_request]
        jobs:
          pr:
            runs-on: x
            if: github.event_name == 'pull_request'
            steps:
              - run: echo "${{ github.base_ref }}" > pr.txt
        """,
    )
    assert statuses(execute(root)) == {"pr": "skipped"}
    execute(root, event=Event.pull_request("main"))
    assert read(root, "pr.txt") == "main\n"


def test_unknown_actions_are_skipped_and_strict_refuses_them(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          a:
            runs-on: x
            steps:
              - uses: someone/unknown-action@v1
              - uses: actions/cache@v4
                with: {path: x, key: y}
        """,
    )
    result = execute(root)
    assert steps(result, "a") == [
        ("Run someone/unknown-action@v1", "skipped"),
        ("Run actions/cache@v4", "success"),
    ]
    with pytest.raises(UnsupportedPipelineError, match="unknown-action"):
        execute(root, strict=True)


def test_artifacts_go_to_a_local_folder_and_come_back(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          up:
            runs-on: x
            steps:
              - run: mkdir -p out && echo data > out/file.txt
              - uses: actions/upload-artifact@v4
                with: {name: things, path: out/file.txt}
          down:
            needs: up
            runs-on: x
            steps:
              - run: rm -rf out
              - uses: actions/download-artifact@v4
                with: {name: things, path: back}
              - run: cat back/file.txt > got.txt
        """,
    )
    assert statuses(execute(root)) == {"up": "success", "down": "success"}
    assert read(root, "got.txt") == "data\n"


def test_secrets_are_masked_and_vars_and_inputs_are_read(tmp_path):
    root = gh(
        tmp_path,
        """
        on:
          workflow_dispatch:
            inputs:
              level: {type: string, default: low}
        jobs:
          a:
            runs-on: x
            steps:
              - run: >-
                  echo "${{ vars.COLOUR }} ${{ inputs.level }}" > seen.txt;
                  echo "token is ${{ secrets.TOKEN }}"; exit 1
        """,
    )
    result = execute(
        root,
        event=Event.manual("main", {"level": "high"}),
        variables={"COLOUR": "blue"},
        secrets={"TOKEN": "s3cr3t-value"},
    )
    assert read(root, "seen.txt") == "blue high\n"
    (step,) = result.jobs[0].steps
    assert "token is ***" in step.output
    assert "s3cr3t-value" not in step.output


def test_dispatch_inputs_are_read_as_their_declared_type(tmp_path):
    root = gh(
        tmp_path,
        """
        on:
          workflow_dispatch:
            inputs:
              dry: {type: boolean, default: true}
        jobs:
          a:
            runs-on: x
            steps:
              - if: inputs.dry
                run: echo dry > dry.txt
              - run: >-
                  echo "${{ inputs.dry }} ${{ github.event.inputs.dry }}"
                  > v.txt
        """,
    )
    execute(root, event=Event.manual("main", {"dry": "false"}))
    assert not (root / "dry.txt").exists()
    assert read(root, "v.txt") == "false false\n"


def test_a_step_timeout_stops_the_step(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          a:
            runs-on: x
            steps:
              - run: sleep 30
                timeout-minutes: 0.02
        """,
    )
    (job,) = execute(root).jobs
    assert job.status == "failure"
    assert job.steps[0].reason == "timed out"
    assert job.steps[0].seconds < 10


def test_a_step_env_that_shadows_a_makefile_variable_fails_the_run(tmp_path):
    """The class of issue 24's defect: a step env: reaches make's ?=."""
    makefile = (
        "EXTRAS ?=\n"
        "install:\n"
        "\t@test -z '$(EXTRAS)' || "
        "{ echo 'Extra `$(EXTRAS)` is not defined'; exit 2; }\n"
    )
    workflow = """
        on: push
        jobs:
          a:
            runs-on: x
            steps:
              - env: {%s: dev}
                run: make install
        """
    leaky = gh(tmp_path / "leaky", workflow % "EXTRAS", Makefile=makefile)
    result = execute(leaky)
    assert statuses(result) == {"a": "failure"}
    assert "Extra `dev` is not defined" in result.jobs[0].steps[0].output
    fixed = gh(tmp_path / "fixed", workflow % "SETUP_GROUPS", Makefile=makefile)
    assert statuses(execute(fixed)) == {"a": "success"}


# the console command -------------------------------------------------------


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlops_scaffold", "run", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={
            **__import__("os").environ,
            "PYTHONPATH": str(REPO / "generator"),
            "MLOPS_SCAFFOLD_TOOL_CACHE": str(root.parent / "tools"),
            "MLOPS_SCAFFOLD_DEBUG": "",
        },
    )


def test_cli_exit_codes_text_and_json(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          good:
            runs-on: x
            steps:
              - name: fine
                run: echo "## All fine" >> "$GITHUB_STEP_SUMMARY"
          bad: {runs-on: x, steps: [{name: broken, run: echo oops; exit 4}]}
        """,
    )
    done = cli(root, ".github/workflows/ci.yml", "--job", "good")
    assert done.returncode == 0, done.stderr
    assert "ok      fine" in done.stdout
    assert "> ## All fine" in done.stdout  # the step summary, after the job
    done = cli(root, ".github/workflows/ci.yml")
    assert done.returncode == 1
    assert "| oops" in done.stdout and "1 failed" in done.stdout
    done = cli(root, ".github/workflows/ci.yml", "--format", "json")
    report = json.loads(done.stdout)
    assert [(j["id"], j["status"]) for j in report["jobs"]] == [
        ("good", "success"),
        ("bad", "failure"),
    ]
    assert set(report["jobs"][1]["steps"][0]) >= {"name", "status", "seconds"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere.yml"], "is not a file"),
        ([".github/workflows/ci.yml", "--job", "nope"], "no job named 'nope'"),
        ([".github/workflows/ci.yml", "--var", "novalue"], "is not KEY=VALUE"),
        (["README.md"], "not valid YAML"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path, args, message):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          a: {runs-on: x, steps: [{run: echo a}]}
        """,
        **{"README.md": "# title\n: : :\n"},
    )
    done = cli(root, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_the_generated_readme_says_run_ci_locally_before_you_push(
    both_project,
):
    readme = (both_project / "README.md").read_text(encoding="utf-8")
    assert "Run CI locally before you push" in readme
    for command in (
        "mlops-scaffold run .github/workflows/ci.yml",
        "mlops-scaffold run azure-pipelines/ci.yml",
    ):
        assert command in readme


def test_ctrl_c_stops_the_running_step_and_exits_130(tmp_path):
    import signal
    import time

    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          first: {runs-on: x, steps: [{run: echo done}]}
          slow:
            needs: first
            runs-on: x
            steps:
              - run: sleep 60 & echo $$ > started.txt; wait
        """,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "mlops_scaffold", "run",
         ".github/workflows/ci.yml"],
        cwd=root,
        env={**__import__("os").environ,
             "PYTHONPATH": str(REPO / "generator"), "MLOPS_SCAFFOLD_DEBUG": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while (
        not (root / "started.txt").read_text().strip()
        if (root / "started.txt").exists()
        else True
    ):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stdout + stderr
    assert "Interrupted" in stderr and "first" in stderr
    assert "Traceback" not in stderr
    group = int((root / "started.txt").read_text())
    deadline = time.monotonic() + 10  # the orphaned sleep is reaped by init
    with pytest.raises(ProcessLookupError):  # the step's whole group
        while time.monotonic() < deadline:
            __import__("os").killpg(group, 0)
            time.sleep(0.1)


def test_container_and_windows_jobs_are_named_and_skipped(tmp_path):
    root = gh(
        tmp_path,
        """
        on: push
        jobs:
          boxed:
            runs-on: ubuntu-latest
            container: python:3.11
            steps: [{run: echo in-box > boxed.txt}]
          win:
            runs-on: windows-latest
            steps: [{run: echo win > win.txt}]
        """,
    )
    reasons = {job.id: (job.status, job.reason) for job in execute(root).jobs}
    assert reasons["boxed"][0] == reasons["win"][0] == "skipped"
    assert "container" in reasons["boxed"][1]
    assert "windows" in reasons["win"][1]
    assert not (root / "boxed.txt").exists()
    with pytest.raises(UnsupportedPipelineError, match="container"):
        execute(root, strict=True)
