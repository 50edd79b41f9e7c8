"""Fixtures shared by the tests: isolation from the user's git and Copier
settings, and generated projects built once per session."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import generate

REPO = Path(__file__).resolve().parents[1]

# The test tools (uv, pre-commit, actionlint, ...) are the environment's
# that runs the tests, whether or not it was activated.
_TOOLS = str(Path(sys.executable).parent)
if _TOOLS not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _TOOLS + os.pathsep + os.environ.get("PATH", "")

# The test tiers. `python -m pytest -m "not e2e"` is the inner loop (under
# a minute); everything runs in CI. A test is end-to-end when it trains,
# installs or runs a whole project, a wheel or an external tool: marked in
# its module, or here by the fixtures that do that work.
E2E_FIXTURES = frozenset(
    {
        "trained",  # test_monitoring: a model trained by the project's code
        "locked_project",  # test_toolchain: uv lock against the index
        "packaged",  # test_release: trained, gated and packaged
        "federated",
        "released",
        "setup_cloud",  # test_release: set-up scripts on the stand-ins
        "every_combination",  # test_validators: every validator
        "installed_project",  # test_daily_loop: `make install` and tasks
    }
)


# The longest modules first: xdist hands out whole modules (--dist
# loadfile) in collection order, so a long module collected last would run
# alone at the end while the other worker idles. Measured on this machine
# (benchmarks/README.md); the rest keep their order.
LONGEST_FIRST = (
    "test_run_e2e.py",
    "test_release.py",
    "test_run_ci_both_e2e.py",
    "test_toolchain.py",
    "test_daily_loop.py",
    "test_run_ci_github_e2e.py",
    "test_run_ci_azure_e2e.py",
    "test_validators.py",
    "test_wheel.py",
    "test_update.py",
    "test_new.py",
    "test_properties.py",
    "test_keep_properties.py",
    "test_infrastructure.py",
)


def pytest_xdist_auto_num_workers(config):
    """One worker more than cores for a run with the end-to-end tests: they
    wait on the package index and on subprocesses, and a third worker
    fills those waits (on this 2-core machine: 10 min 40 s against 11 min
    49 s with two). The inner loop is pure CPU: one worker per core."""
    cores = os.cpu_count() or 1
    return cores if "not e2e" in (config.option.markexpr or "") else cores + 1


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment(tmp_path_factory, worker_id):
    """No user git config, identity or Copier settings leak into tests."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
        encoding="utf-8",
    )
    saved = dict(os.environ)
    os.environ.update(
        {
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "COPIER_SETTINGS_PATH": str(home / "copier-settings.yml"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            # an unexpected exception fails the test with its traceback
            # instead of becoming cli.main's "internal error" message
            "MLOPS_SCAFFOLD_DEBUG": "1",
            # `new` locks with uv and the package index: only the tests
            # that say so (test_new's lock tests) pay for it
            "MLOPS_SCAFFOLD_NO_LOCK": "1",
        }
    )
    for variable in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        os.environ.pop(variable, None)
    # A machine image may set PYTHONDONTWRITEBYTECODE (this one does; a
    # runner and a developer's machine do not). uv installs without
    # compiling, so under it every process of a generated project compiled
    # scikit-learn, pandas, SciPy and MLflow from source again: 4.3 s to
    # import them against 1.2 s from bytecode.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    # The az stand-in's answers from the project's scoring code, shared by
    # every job of this test run (fake_az.score).
    os.environ["FAKE_AZ_SCORE_CACHE"] = str(
        _shared_folder(tmp_path_factory, worker_id, "az-score")
    )
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def default_project(tmp_path_factory) -> Path:
    """`new fraud-model --defaults`, generated once."""
    return generate(tmp_path_factory.mktemp("default") / "fraud-model")


@pytest.fixture(scope="session")
def both_project(tmp_path_factory) -> Path:
    """Both CI providers and both IaC languages, generated once."""
    return generate(
        tmp_path_factory.mktemp("both") / "fraud-model",
        ci_provider="both",
        iac="both",
    )


@pytest.fixture(scope="session")
def azure_cd_project(tmp_path_factory) -> Path:
    """Both CI providers and both IaC languages, Azure Pipelines deploying
    (GitHub Actions runs CI only)."""
    return generate(
        tmp_path_factory.mktemp("both-azure-cd") / "fraud-model",
        ci_provider="both",
        iac="both",
        cd_provider="azure",
    )


def _shared_folder(tmp_path_factory, worker_id: str, name: str) -> Path:
    """A folder of this test run that every xdist worker sees (beside the
    workers' own folders)."""
    run = tmp_path_factory.getbasetemp()
    shared = (run if worker_id == "master" else run.parent) / name
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture(scope="session")
def once(tmp_path_factory, worker_id):
    """``once(kind, key, compute)``: the bytes ``compute()`` returns, computed
    by the first worker that asks for ``key`` in this test run and read by
    every later one (a file lock per key makes a second worker wait, not
    compute again). For work whose result depends on its key only: a job
    run on the same content, a lock for the same pyproject.toml."""
    shared = _shared_folder(tmp_path_factory, worker_id, "once")

    def get(kind: str, key: str, compute) -> bytes:
        digest = hashlib.sha256(f"{kind}\0{key}".encode()).hexdigest()[:24]
        stored = shared / digest
        with (shared / f"{digest}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not stored.exists():
                data = compute()
                stored.with_suffix(".tmp").write_bytes(data)
                stored.with_suffix(".tmp").replace(stored)
            return stored.read_bytes()

    return get


@pytest.fixture(scope="session")
def seed_lock(once):
    """``seed_lock(project)``: uv.lock for the project's pyproject.toml,
    resolved against the package index by the first project of the run
    with those exact bytes and copied into every later one (the same
    input, the same index, the same lock), so `make install` syncs without
    resolving again. uv resolving is mostly waiting on the index."""
    uv = shutil.which("uv")

    def seed(project: Path) -> None:
        if uv is None:
            pytest.fail("uv is not installed (pyproject's test extra pins it)")

        def resolve() -> bytes:
            subprocess.run(
                [uv, "lock", "--quiet"], cwd=project, check=True,
                env={k: v for k, v in os.environ.items()
                     if k != "VIRTUAL_ENV"},
            )  # fmt: skip
            return (project / "uv.lock").read_bytes()

        key = (project / "pyproject.toml").read_text(encoding="utf-8")
        (project / "uv.lock").write_bytes(once("uv.lock", key, resolve))

    return seed


# `mlops-scaffold run` of generated jobs (runjobs.py) ----------------------


@pytest.fixture(scope="session")
def shims(tmp_path_factory) -> Path:
    """uv on PATH (and only uv: the tools the jobs need come from the
    project's .venv, as on a hosted runner)."""
    folder = tmp_path_factory.mktemp("shims")
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).is_file():
        pytest.fail("uv is not installed (pyproject's test extra pins it)")
    (folder / "uv").symlink_to(uv)
    return folder


@pytest.fixture(scope="session")
def tool_cache(tmp_path_factory) -> Path:
    """Where `mlops-scaffold run` keeps the actions it fetches."""
    return tmp_path_factory.mktemp("tool-cache")


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, worker_id):
    """``rendered(**answers)``: a project rendered once per test run for
    those answers (no git), shared by every test that reads it, across
    xdist workers (a folder beside the workers' own, under a file lock).
    A test that changes files copies the project first."""
    shared = _shared_folder(tmp_path_factory, worker_id, "rendered")

    def render(**answers) -> Path:
        key = json.dumps(answers, sort_keys=True, default=repr)
        folder = shared / hashlib.sha256(key.encode()).hexdigest()[:16]
        project = folder / "fraud-model"
        folder.mkdir(exist_ok=True)
        with (folder / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (folder / ".done").exists():
                shutil.rmtree(project, ignore_errors=True)
                generate(project, git=False, **answers)
                (folder / ".done").write_text(key)
        return project

    return render


# What the package index needs on this machine (certificates, a mirror, a
# proxy): passed to `make install`, the one task that uses the network.
NETWORK_VARIABLES = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
)


@dataclass(frozen=True)
class InstalledProject:
    """A generated project after `make install`, and how a fresh shell that
    never activated its venv runs its tasks (`env -i` with PATH and HOME)."""

    path: Path
    env: dict[str, str]

    def make(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return self.run("make", *args, **env)

    def run(self, *command: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            list(command),
            cwd=self.path,
            env={**self.env, **env},
            capture_output=True,
            text=True,
        )


@pytest.fixture(scope="session")
def installed_project(tmp_path_factory, seed_lock) -> InstalledProject:
    """`new fraud-model --defaults`, then `make install` with uv against the
    package index (uv's own cache makes a rerun quick), once per session.
    PATH holds uv and the system tools only: nothing of this environment."""
    uv = shutil.which("uv", path=Path(sys.executable).parent) or shutil.which(
        "uv"
    )
    if uv is None:
        pytest.fail("uv is not installed (pyproject's test extra pins it)")
    root = tmp_path_factory.mktemp("installed")
    tools = root / "bin"
    tools.mkdir()
    (tools / "uv").symlink_to(uv)
    env = {
        "PATH": os.pathsep.join([str(tools), "/usr/bin", "/bin"]),
        "HOME": os.environ["HOME"],
    }
    project = InstalledProject(generate(root / "fraud-model"), env)
    seed_lock(project.path)
    network = {k: os.environ[k] for k in NETWORK_VARIABLES if k in os.environ}
    result = project.make("install", **network)
    assert result.returncode == 0, result.stderr[-4000:]
    return project
