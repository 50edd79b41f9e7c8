"""A stand-in for the `az` CLI with just enough of `az ml` for the release
scripts, keeping its state in $FAKE_AZ_STATE (JSON). `invoke` answers with
the project's real scoring code, loaded the way Azure ML loads it: by path,
with $AZUREML_MODEL_DIR pointing at the registered model folder.

Set FAKE_AZ_BROKEN_DEPLOYMENT=<name> to make that deployment answer with an
error, as a broken release would."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

STATE = Path(os.environ["FAKE_AZ_STATE"])


def load() -> dict:
    if STATE.exists():
        return json.loads(STATE.read_text())
    return {"models": {}, "environments": [], "endpoints": {}, "calls": []}


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def score(model_path: str, request_file: str) -> dict:
    source = next(Path.cwd().glob("src/*/score.py"))
    os.environ["AZUREML_MODEL_DIR"] = model_path
    spec = importlib.util.spec_from_file_location("score_entry", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.init()
    return module.run(Path(request_file).read_text())


def main(args: list[str]) -> int:  # noqa: C901 - a dispatcher
    state = load()
    state["calls"].append(" ".join(args))
    code, out = 0, ""
    if args[:1] in (["configure"], ["extension"]):
        pass
    elif args[:2] == ["ml", "environment"]:
        key = f"{option(args, '--name')}:{option(args, '--version')}"
        if args[2] == "show":
            code = 0 if key in state["environments"] else 1
        else:
            state["environments"].append("created")
    elif args[:2] == ["ml", "model"]:
        key = f"{option(args, '--name')}:{option(args, '--version')}"
        if args[2] == "show":
            code = 0 if key in state["models"] else 1
        elif args[2] == "update":
            code = 0 if key in state["models"] else 1
            state.setdefault("model_tags", {})[key] = option(args, "--set")
        else:
            state["models"][key] = str(Path(option(args, "--path")).resolve())
    elif args[:2] == ["ml", "online-endpoint"]:
        name = option(args, "--name")
        endpoint = state["endpoints"].get(name)
        if args[2] == "show":
            if endpoint is None:
                code = 1
            else:
                out = json.dumps(endpoint["traffic"])
        elif args[2] == "create":
            state["endpoints"][name] = {"traffic": {}, "deployments": {}}
        elif args[2] == "update":
            traffic = option(args, "--traffic").split()
            endpoint["traffic"] = {
                k: int(v) for k, v in (item.split("=") for item in traffic)
            }
        elif args[2] == "invoke":
            deployment = option(args, "--deployment-name") or max(
                endpoint["traffic"], key=endpoint["traffic"].get
            )
            if deployment == os.environ.get("FAKE_AZ_BROKEN_DEPLOYMENT"):
                answer = {"error": "the container crashed"}
            else:
                model = endpoint["deployments"][deployment]
                answer = score(
                    state["models"][model], option(args, "--request-file")
                )
            out = json.dumps(
                json.dumps(answer)
            )  # az prints the body as a string
    elif args[:2] == ["ml", "online-deployment"]:
        endpoint = state["endpoints"][option(args, "--endpoint-name")]
        name = option(args, "--name")
        if args[2] == "show":
            code = 0 if name in endpoint["deployments"] else 1
        elif args[2] == "delete":
            endpoint["deployments"].pop(name)
            endpoint["traffic"].pop(name, None)
        elif args[2] == "create":
            model = next(
                a.split("azureml:", 1)[1]
                for a in args
                if a.startswith("model=")
            )
            endpoint["deployments"][name] = model
            endpoint["traffic"].setdefault(name, 0)
    else:
        print(f"fake az: unsupported: {' '.join(args)}", file=sys.stderr)
        code = 2
    STATE.write_text(json.dumps(state, indent=1))
    if out:
        print(out)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
