"""`mlops-scaffold run`, Azure Pipelines semantics: small repositories
built here whose pipelines write files, checked against the agent's
documented behaviour ("Define variables", "Expressions", "Template
expressions", "Logging commands", "Deployment jobs") and the task
sources (CmdLineV2 runs `bash --noprofile --norc FILE`, without -e)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_run import read, repo, statuses, steps

from mlops_scaffold.errors import UnsupportedPipelineError
from mlops_scaffold.pipelines.runner import Options, run
from mlops_scaffold.pipelines.semantics import Event


def az(tmp_path: Path, pipeline: str, **files: str) -> Path:
    return repo(tmp_path, {"azure-pipelines.yml": pipeline, **files})


def execute(root: Path, **options):
    options.setdefault("event", Event.push("main"))
    options.setdefault("tool_cache", root.parent / "tools")
    return run(root / "azure-pipelines.yml", Options(**options), root=root)


def test_variables_levels_macros_and_environment_names(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        variables:
          my.var: root
          level: root
          combined: $(my.var)-and-$(level)
        stages:
          - stage: S
            variables:
              level: stage
            jobs:
              - job: J
                variables:
                  - name: level
                    value: job
                steps:
                  - script: >-
                      echo "$MY_VAR $LEVEL $(level) $COMBINED
                      $(undefined.thing)" > vars.txt
                  - script: echo "$SCRIPT_ONLY" > step-env.txt
                    env:
                      SCRIPT_ONLY: $(my.var)-mapped
        """,
    )
    assert statuses(execute(root)) == {"J": "success"}
    # $(undefined.thing) stays as written; bash then runs `undefined.thing`
    text = read(root, "vars.txt")
    assert text.startswith("root job job root-and-job ")
    assert read(root, "step-env.txt") == "root-mapped\n"


def test_secrets_are_not_exported_but_can_be_mapped(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        steps:
          - script: echo "[$TOKEN]" > unmapped.txt
          - script: echo "[$MAPPED] $(TOKEN)"; exit 1
            env:
              MAPPED: $(TOKEN)
        """,
    )
    result = execute(root, secrets={"TOKEN": "t0ps3cret"})
    assert read(root, "unmapped.txt") == "[]\n"
    output = result.jobs[0].steps[1].output
    assert "[***] ***" in output and "t0ps3cret" not in output


def test_setvariable_and_output_variables_across_jobs_and_stages(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        stages:
          - stage: A
            jobs:
              - job: A1
                steps:
                  - script: |
                      echo "##vso[task.setvariable variable=plain]p"
                      echo "##vso[task.setvariable variable=o;isOutput=true]42"
                    name: setter
                  - script: echo "$(plain) $PLAIN $(setter.o)" > same.txt
              - job: A2
                dependsOn: A1
                variables:
                  got: $[ dependencies.A1.outputs['setter.o'] ]
                steps:
                  - script: echo "$(got)" > job.txt
          - stage: B
            dependsOn: A
            condition: eq(dependencies.A.outputs['A1.setter.o'], '42')
            variables:
              fromA: $[ stageDependencies.A.A1.outputs['setter.o'] ]
            jobs:
              - job: B1
                steps:
                  - script: echo "$(fromA)" > stage.txt
        """,
    )
    assert statuses(execute(root)) == {
        "A1": "success",
        "A2": "success",
        "B1": "success",
    }
    assert read(root, "same.txt") == "p p 42\n"
    assert read(root, "job.txt") == "42\n"
    assert read(root, "stage.txt") == "42\n"


def test_templates_with_parameters_each_and_if_else(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        parameters:
          - name: targets
            type: object
            default: [one, two]
        jobs:
          - template: templates/job.yml
            parameters:
              targets: ${{ parameters.targets }}
              loud: true
        """,
        **{
            "templates/job.yml": """
            parameters:
              - name: targets
                type: object
              - name: loud
                type: boolean
                default: false
            jobs:
              - job: templated
                steps:
                  - ${{ each target in parameters.targets }}:
                      - script: echo ${{ target }} >> each.txt
                  - template: steps.yml
                    parameters:
                      loud: ${{ parameters.loud }}
            """,
            "templates/steps.yml": """
            parameters:
              - name: loud
                type: boolean
                default: false
            steps:
              - ${{ if eq(parameters.loud, true) }}:
                  - script: echo LOUD > branch.txt
              - ${{ elseif false }}:
                  - script: echo never > branch.txt
              - ${{ else }}:
                  - script: echo quiet > branch.txt
            """,
        },
    )
    assert statuses(execute(root)) == {"templated": "success"}
    assert read(root, "each.txt") == "one\ntwo\n"
    assert read(root, "branch.txt") == "LOUD\n"


def test_variable_templates(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        variables:
          - template: vars.yml
          - name: local
            value: here
        steps:
          - script: echo "$(shared) $(local)" > vars.txt
        """,
        **{"vars.yml": "variables:\n  shared: from-template\n"},
    )
    assert statuses(execute(root)) == {"Job": "success"}
    assert read(root, "vars.txt") == "from-template here\n"


def test_script_and_bash_run_without_errexit(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        jobs:
          - job: script_keeps_going
            steps:
              - script: |
                  false
                  echo reached > script.txt
          - job: last_status_counts
            steps:
              - bash: |
                  echo reached > bash.txt
                  false
        """,
    )
    assert statuses(execute(root)) == {
        "script_keeps_going": "success",
        "last_status_counts": "failure",
    }
    assert read(root, "script.txt") == "reached\n"


def test_conditions_continue_on_error_and_enabled(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        jobs:
          - job: a
            steps:
              - script: exit 3
                continueOnError: true
              - script: echo "$(Agent.JobStatus)" > status.txt
              - script: echo off > disabled.txt
                enabled: false
              - script: exit 1
              - script: echo never > never.txt
              - script: echo failed > failed.txt
                condition: failed()
              - script: echo always > always.txt
                condition: always()
          - job: b
            dependsOn: a
            steps:
              - script: echo b > b.txt
          - job: c
            dependsOn: a
            condition: failed()
            steps:
              - script: echo c > c.txt
        """,
    )
    result = execute(root)
    assert statuses(result) == {"a": "failure", "b": "skipped", "c": "success"}
    assert read(root, "status.txt") == "SucceededWithIssues\n"
    assert read(root, "failed.txt") == "failed\n"
    assert read(root, "always.txt") == "always\n"
    assert not (root / "never.txt").exists()
    assert not (root / "disabled.txt").exists()


def test_logging_commands_prependpath_complete_and_setsecret(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        steps:
          - script: |
              mkdir -p tools && printf '#!/bin/sh\\necho t\\n' > tools/t
              chmod +x tools/t
              echo "##vso[task.prependpath]$PWD/tools"
              echo "##vso[task.setsecret]hide-me-please"
          - script: t > t.txt; echo "hide-me-please"
          - script: echo "##vso[task.complete result=Failed;]done"
        """,
    )
    result = execute(root)
    assert read(root, "t.txt") == "t\n"
    assert [s for _, s in steps(result, "Job")] == [
        "success",
        "success",
        "failure",
    ]
    assert "hide-me-please" not in result.jobs[0].steps[1].output


def test_deployment_jobs_run_their_hooks_only_when_included(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        jobs:
          - deployment: release
            environment: production
            strategy:
              runOnce:
                preDeploy:
                  steps: [{script: echo pre >> hooks.txt}]
                deploy:
                  steps: [{script: echo deploy >> hooks.txt}]
                routeTraffic:
                  steps: [{script: exit 1}]
                on:
                  failure:
                    steps: [{script: echo rollback >> hooks.txt}]
                  success:
                    steps: [{script: echo success >> hooks.txt}]
        """,
    )
    (job,) = execute(root).jobs
    assert job.status == "skipped" and "--include-deployments" in job.reason
    assert not (root / "hooks.txt").exists()
    assert statuses(execute(root, include_deployments=True)) == {
        "release": "failure"
    }
    assert read(root, "hooks.txt") == "pre\ndeploy\nrollback\n"


def test_matrix_legs_set_variables(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        jobs:
          - job: t
            strategy:
              matrix:
                first: {flavour: vanilla}
                second: {flavour: mint}
            steps:
              - script: echo "$(flavour) $FLAVOUR" >> legs.txt
        """,
    )
    result = execute(root, matrix={"flavour": "mint"})
    assert statuses(result) == {"t (second)": "success"}
    assert read(root, "legs.txt") == "mint mint\n"


def test_a_python_that_is_not_installed_skips_the_job(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        steps:
          - task: UsePythonVersion@0
            inputs: {versionSpec: "2.1"}
          - script: echo never > never.txt
        """,
    )
    (job,) = execute(root).jobs
    assert (job.status, job.reason) == (
        "skipped",
        "Python 2.1 is not installed here",
    )


def test_unknown_tasks_are_skipped_and_strict_refuses_them(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        steps:
          - task: SomethingElse@3
          - task: PublishTestResults@2
            inputs: {testResultsFiles: x.xml}
        """,
    )
    assert [s for _, s in steps(execute(root), "Job")] == [
        "skipped",
        "skipped",
    ]
    with pytest.raises(UnsupportedPipelineError, match="SomethingElse@3"):
        execute(root, strict=True)


def test_not_triggered_runs_nothing_and_unknown_jobs_are_bad_input(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [release]
        jobs:
          - job: a
            steps: [{script: echo ran > ran.txt}]
        """,
    )
    (job,) = execute(root).jobs
    assert job.status == "skipped" and "not triggered" in job.reason
    with pytest.raises(UnsupportedPipelineError, match="no stage or job"):
        execute(root, jobs=["missing"])


def test_runtime_parameters_from_inputs(tmp_path):
    root = az(
        tmp_path,
        textwrap.dedent(
            """
            trigger: [main]
            parameters:
              - name: colour
                type: string
                default: red
            steps:
              - script: echo ${{ parameters.colour }} > colour.txt
            """
        ),
    )
    execute(root, event=Event.manual("main", {"colour": "green"}))
    assert read(root, "colour.txt") == "green\n"


def test_python_script_task_and_job_continue_on_error(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        jobs:
          - job: soft
            continueOnError: true
            steps:
              - task: PythonScript@0
                inputs:
                  scriptSource: inline
                  script: |
                    open("py.txt", "w").write("from python")
                    raise SystemExit(1)
          - job: after
            dependsOn: soft
            steps:
              - script: echo "$(Agent.JobStatus)" > after.txt
        """,
    )
    assert statuses(execute(root)) == {"soft": "success", "after": "success"}
    assert read(root, "py.txt") == "from python"


def test_fail_on_stderr(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        jobs:
          - job: tolerant
            steps:
              - script: echo warning >&2
          - job: strict
            steps:
              - script: echo warning >&2
                failOnStderr: true
          - job: strict_task
            steps:
              - task: Bash@3
                inputs:
                  targetType: inline
                  script: echo warning >&2
                  failOnStderr: true
        """,
    )
    assert statuses(execute(root)) == {
        "tolerant": "success",
        "strict": "failure",
        "strict_task": "failure",
    }


def test_runtime_parameters_are_read_as_their_declared_type(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        parameters:
          - name: loud
            type: boolean
            default: true
          - name: names
            type: object
            default: [x]
        steps:
          - ${{ if parameters.loud }}:
              - script: echo loud > loud.txt
          - ${{ each name in parameters.names }}:
              - script: echo ${{ name }} >> names.txt
        """,
    )
    execute(
        root, event=Event.manual("main", {"loud": "false", "names": "[a, b]"})
    )
    assert not (root / "loud.txt").exists()
    assert read(root, "names.txt") == "a\nb\n"


def test_each_over_objects_jobs_and_depends_on(tmp_path):
    root = az(
        tmp_path,
        """
        trigger: [main]
        parameters:
          - name: envs
            type: object
            default: {Alpha: a, BETA: b}
          - name: names
            type: object
            default: [one, two]
        variables:
          ${{ if eq(parameters.names[0], 'one') }}:
            picked: first
          ${{ else }}:
            picked: other
        jobs:
          - ${{ each eachName in parameters.names }}:
              - job: job_${{ eachName }}
                steps:
                  - script: >-
                      echo "$Alpha $BETA $(picked) ${{ eachName }}"
                      >> out.txt
                    env:
                      ${{ each pair in parameters.envs }}:
                        ${{ pair.key }}: ${{ pair.value }}
          - job: last
            dependsOn:
              - ${{ each eachName in parameters.names }}:
                  - job_${{ eachName }}
            steps:
              - script: echo last >> out.txt
        """,
    )
    assert statuses(execute(root)) == {
        "job_one": "success",
        "job_two": "success",
        "last": "success",
    }
    assert read(root, "out.txt") == "a b first one\na b first two\nlast\n"
