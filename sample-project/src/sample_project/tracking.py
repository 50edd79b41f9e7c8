"""MLflow tracking and the model registry.

Runs go to $MLFLOW_TRACKING_URI: on Azure, the workspace's MLflow URI
(`az ml workspace show --query mlflow_tracking_uri`, with the `azure` extra:
azureml-mlflow), so that runs and models appear in Azure ML studio; Azure ML
jobs set it themselves. Otherwise they go to a local store at the project
root, ``sqlite:///mlflow.db`` (see it with `mlflow ui --backend-store-uri
sqlite:///mlflow.db` after `uv tool install mlflow`).

The production model is the registered model version with the alias
``production`` or, where the registry has no aliases (Azure ML), the newest
version with the tag ``production=true``; ``promote`` sets both, and a
release to production tags the version it registered (scripts/deploy.sh).
``fetch_production`` downloads it for the quality gate and monitoring.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

LOCAL_STORE = "sqlite:///mlflow.db"
PRODUCTION_ALIAS = "production"
# Azure ML's MLflow registry has no aliases: there, the production model is
# the newest version tagged production=true (scripts/deploy.sh tags it).
PRODUCTION_TAG = "production"
# The files of a trained model that scoring, the gate and monitoring read;
# logged with every run as the artefact folder "bundle".
BUNDLE = "bundle"
BUNDLE_FILES = ("model.joblib", "model-info.json", "reference.csv")
# The packages whose versions must match between training and serving.
RUNTIME_PACKAGES = ("scikit-learn", "numpy", "pandas", "scipy", "joblib")


class RegistryError(RuntimeError):
    """The tracking server or the model registry cannot be read."""


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or LOCAL_STORE


def skip_reason() -> str | None:
    """Why runs are not logged here, or None. A CI job's local store is
    thrown away with the runner, so CI logs only to a real server."""
    in_ci = os.environ.get("CI") or os.environ.get("TF_BUILD")
    if in_ci and not os.environ.get("MLFLOW_TRACKING_URI"):
        return "a CI job without MLFLOW_TRACKING_URI (its store is not kept)"
    return None


def package_versions() -> dict[str, str]:
    """The installed versions of the packages the model depends on."""
    versions = {}
    for name in RUNTIME_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _mlflow():
    # Bound the wait for an unreachable server: a gate must not hang.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    return mlflow


def log_model_run(
    model_dir: Path,
    model: Any,
    example: Any,
    params: dict[str, Any],
    scores: dict[str, float],
    run_name: str,
    verdict: dict[str, Any] | None = None,
) -> str:
    """One MLflow run: parameters, metrics, the data fingerprint, the bundle
    and the model (with its signature and an input example), and the quality
    gate's ``verdict`` when training knows it already. Returns the run id."""
    mlflow = _mlflow()
    from mlflow.models import infer_signature

    info = json.loads((model_dir / "model-info.json").read_text("utf-8"))
    if not os.environ.get("MLFLOW_RUN_ID"):
        # An Azure ML job brings its own run (and experiment): log to it.
        mlflow.set_experiment(info["name"])
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(scores)
        mlflow.set_tags(
            {
                "data_version": info["data_version"],
                "data_source": info["data_source"],
            }
        )
        if verdict is not None:
            _log_verdict(mlflow, scores, verdict)
        for file in BUNDLE_FILES:
            if (model_dir / file).is_file():
                mlflow.log_artifact(str(model_dir / file), BUNDLE)
        signature = infer_signature(example, model.predict_proba(example)[:, 1])
        # save_model + log_artifacts, not log_model: MLflow 3's log_model
        # creates a LoggedModel (/api/2.0/mlflow/logged-models), which Azure
        # ML's tracking server does not serve (Azure/azure-sdk-for-python
        # #44896). A run folder "model" with its MLmodel file is all that
        # register_model("runs:/<run>/model") needs (docs/decisions/0005).
        with tempfile.TemporaryDirectory() as scratch:
            mlflow.sklearn.save_model(
                model,
                f"{scratch}/model",
                signature=signature,
                input_example=example,
                serialization_format="cloudpickle",
                pip_requirements=[
                    f"{name}=={version}"
                    for name, version in package_versions().items()
                ],
            )
            mlflow.log_artifacts(f"{scratch}/model", "model")
        return run.info.run_id


def log_gate(
    run_id: str, scores: dict[str, float], verdict: dict[str, Any]
) -> None:
    """Add the quality gate's verdict to the training run."""
    mlflow = _mlflow()
    with mlflow.start_run(run_id=run_id):
        _log_verdict(mlflow, scores, verdict)


def _log_verdict(
    mlflow: Any, scores: dict[str, float], verdict: dict[str, Any]
) -> None:
    mlflow.log_metrics({f"gate_{k}": v for k, v in scores.items()})
    passed = "passed" if verdict["passed"] else "failed"
    mlflow.set_tags({"quality_gate": passed, "baseline": verdict["baseline"]})


def promote(model_dir: Path) -> tuple[str, str]:
    """Register the model in ``model_dir`` and point the production alias
    at it. Its training run is reused when it is in this store; otherwise
    (CI trained it with a local store) a release run logs it here first.
    Returns the name and the new version."""
    import joblib
    import pandas as pd

    mlflow = _mlflow()
    info = json.loads((model_dir / "model-info.json").read_text("utf-8"))
    name, run_id = info["name"], info.get("mlflow_run_id")
    try:
        mlflow.MlflowClient().get_run(run_id or "missing")
    except Exception:
        model = joblib.load(model_dir / "model.joblib")
        example = pd.read_csv(model_dir / "reference.csv", nrows=5)
        report = model_dir / "metrics.json"
        scores = (
            json.loads(report.read_text("utf-8"))["metrics"]
            if report.is_file()
            else {}
        )
        run_id = log_model_run(
            model_dir, model, example[info["features"]], {}, scores, "release"
        )
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    version = mlflow.register_model(f"runs:/{run_id}/model", name)
    client.set_model_version_tag(name, version.version, PRODUCTION_TAG, "true")
    try:
        client.set_registered_model_alias(
            name, PRODUCTION_ALIAS, version.version
        )
    except MlflowException:
        pass  # a registry without aliases: the tag says it
    return name, str(version.version)


def production_version(client: Any, name: str) -> Any | None:
    """The production version: by alias, else the newest tagged one."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, PRODUCTION_ALIAS)
    except MlflowException:
        pass  # no such alias or model, or no aliases: try the tag
    versions = client.search_model_versions(f"name = '{name}'")
    tagged = [v for v in versions if v.tags.get(PRODUCTION_TAG) == "true"]
    return max(tagged, key=lambda v: int(v.version)) if tagged else None


def fetch_production(name: str, out_dir: Path) -> dict[str, str]:
    """Download the production model's bundle into ``out_dir``.

    Returns ``{"status": "found", "version": ...}`` or ``{"status":
    "none"}`` when no version has the production alias yet; raises
    RegistryError when the registry cannot be read."""
    try:
        mlflow = _mlflow()
        client = mlflow.MlflowClient()
        version = production_version(client, name)
        if version is None:
            return {"status": "none"}
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:
            # A release registers dist/model itself (the bundle at the top);
            # `promote` registers the MLflow model of a run with a bundle.
            folder = Path(
                mlflow.artifacts.download_artifacts(
                    f"models:/{name}/{version.version}", dst_path=scratch
                )
            )
            if not (folder / "model.joblib").is_file() and version.run_id:
                folder = Path(
                    client.download_artifacts(
                        version.run_id, BUNDLE, f"{scratch}/run"
                    )
                )
            for file in BUNDLE_FILES:
                if (folder / file).is_file():
                    (folder / file).replace(out_dir / file)
    except RegistryError:
        raise
    except Exception as error:  # any failure to read is one outcome
        raise RegistryError(
            f"cannot read the model registry at {tracking_uri()}: "
            f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
        ) from error
    return {"status": "found", "version": str(version.version)}


def main(argv: list[str] | None = None) -> int:
    """fetch: the production model into models/production (the gate's
    baseline, monitoring's reference); promote: register a model as the
    production model."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch")
    fetch.add_argument("--name", required=True)
    fetch.add_argument("--out", default="models/production", type=Path)
    fetch.add_argument(
        "--required",
        action="store_true",
        help="fail when the registry cannot be read (the default branch)",
    )
    fetch.add_argument(
        "--unreadable",
        metavar="REASON",
        help="record that no registry can be reached here, and why",
    )
    release = commands.add_parser("promote")
    release.add_argument("--model-dir", default="dist/model", type=Path)
    args = parser.parse_args(argv)
    if args.command == "promote":
        if not (args.model_dir / "model-info.json").is_file():
            print(f"error: no model in {args.model_dir}", file=sys.stderr)
            return 2
        try:
            name, version = promote(args.model_dir)
        except Exception as error:
            print(f"error: cannot register the model: {error}", file=sys.stderr)
            return 1
        print(f"registry: {name} version {version} is {PRODUCTION_ALIAS}")
        return 0
    state_file = args.out / "baseline.json"
    try:
        if args.unreadable:
            raise RegistryError(f"no model registry: {args.unreadable}")
        state = fetch_production(args.name, args.out)
    except RegistryError as error:
        if args.required:
            print(
                f"error: {error}\nThe quality gate on the default branch "
                "compares with the production model and cannot run without "
                "it: check the Azure login (AZURE_CLIENT_ID or the service "
                "connection) and MLFLOW_TRACKING_URI, then rerun.",
                file=sys.stderr,
            )
            return 1
        state = {"status": "unreadable", "error": str(error)}
        print(f"warning: {error}; the gate checks the thresholds only")
    state["name"] = args.name
    args.out.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=2) + "\n", "utf-8")
    if state["status"] == "found":
        print(
            f"baseline: {args.name} version {state['version']} "
            f"(@{PRODUCTION_ALIAS}) -> {args.out}"
        )
    elif state["status"] == "none":
        print(
            f"baseline: no production model registered yet ({args.name}@"
            f"{PRODUCTION_ALIAS}); the gate checks the thresholds only"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
