"""The wheel carries what gapctl needs: built, installed into a fresh virtual environment outside
the checkout, and run from a directory that knows nothing of the checkout.

No network: the wheel is installed with --no-deps --no-index, and the new environment finds the
dependencies through a .pth file naming this environment's site-packages. Paths in a .pth are
only appended to sys.path (the .pth files inside them are not run), so the editable install of
the checkout, which is such a .pth file here, does not reach the new environment; the test
checks that `gapctl` there is the installed copy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gapctl.io.scaffold import list_schemes
from tests.conftest import ROOT

SHIPPED = "gapctl/_shipped/"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@contextmanager
def building_in(source: Path) -> Iterator[None]:
    """Builds from one source directory take turns. setuptools writes into the source itself (`build/`,
    `gapctl.egg-info/`), so two test workers building from the same checkout at once collide ("File exists:
    build/bdist…"); the lock is a file named after the source, in the temporary directory."""
    import fcntl
    import hashlib
    import tempfile

    name = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"gapctl-wheel-build-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build_wheel(source: Path, out: Path) -> Path:
    """What the locked environment does offline: this environment's setuptools, no isolation."""
    with building_in(source):
        built = run(sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "-w", out, source, cwd=out.parent)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = out.glob("gapctl-*.whl")
    return wheel


def shipped_in(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name.removeprefix(SHIPPED): archive.read(name) for name in archive.namelist()
                if name.startswith(SHIPPED)}


def expected_shipped() -> dict[str, bytes]:
    """The globs setup.py ships, read from the checkout."""
    patterns = ("schemes/*.yaml", "units/*.yaml", "rounds/*/round.toml", ".github/workflows/gapctl*.yml",
                ".pre-commit-hooks.yaml")
    return {p.relative_to(ROOT).as_posix(): p.read_bytes() for pattern in patterns for p in ROOT.glob(pattern)}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(ROOT, tmp_path_factory.mktemp("wheel") / "dist")


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh virtual environment with only the wheel installed in it: its bin/ and the
    environment to run it with (HOME and the cache key in tmp, no PYTHONPATH)."""
    base = tmp_path_factory.mktemp("venv")
    venv = base / "venv"
    assert run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base).returncode == 0
    python = venv / "bin" / "python"
    put = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
              "--disable-pip-version-check", wheel, cwd=base)
    assert put.returncode == 0, put.stdout + put.stderr
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=base).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site / "gapctl-test-dependencies.pth").write_text("".join(f"{path}\n" for path in ours), encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "GAPCTL_CACHE_DIR"}}
    env.update(HOME=str(base), XDG_CACHE_HOME=str(base / "cache"), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    where = run(python, "-c", "import gapctl, gapctl.data.shipped as s; print(gapctl.__file__); print(s.origin()); "
                "print(s.pre_commit_hooks() is not None)", cwd=base, env=env)
    module, origin, hooks = where.stdout.splitlines()
    assert Path(module).is_relative_to(site), f"gapctl imported from {module}, not from {site}"
    assert (Path(origin), hooks) == (site / "gapctl" / "_shipped", "True")
    return venv / "bin", env


def test_the_wheel_ships_the_schemes_unit_sets_and_ci_templates(wheel: Path) -> None:
    assert shipped_in(wheel) == expected_shipped()


def test_the_sdist_builds_the_same_wheel(wheel: Path, tmp_path: Path) -> None:
    """An sdist carries the files build_py ships (MANIFEST.in), so a wheel built from it ships them too."""
    with building_in(ROOT):
        made = run(sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                   "print(b.build_sdist(sys.argv[1]))", tmp_path, cwd=ROOT)
    assert made.returncode == 0, made.stderr
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python 3.11.4 and later
    with tarfile.open(tmp_path / made.stdout.splitlines()[-1]) as sdist:
        sdist.extractall(tmp_path / "src", **safe)
    (source,) = (tmp_path / "src").iterdir()
    assert shipped_in(build_wheel(source, tmp_path / "dist")) == shipped_in(wheel)


def test_installed_gapctl_starts_a_repository_anywhere(installed: tuple[Path, dict[str, str]],
                                                       tmp_path: Path) -> None:
    bin_dir, env = installed
    gapctl = bin_dir / "gapctl"

    listed = run(gapctl, "init", "--list", cwd=tmp_path, env=env)
    assert listed.returncode == 0 and "suizhou-2021" in listed.stdout and "suizhou-gxq" in listed.stdout
    as_json = run(gapctl, "init", "--list", "--format", "json", cwd=tmp_path, env=env)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["schemes"] == list_schemes()
    assert [row["id"] for row in list_schemes()] == sorted(p.stem for p in ROOT.glob("schemes/*.yaml"))

    made = run(gapctl, "init", "office", "--from", "suizhou-2021", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    office = tmp_path / "office"
    assert (office / "schemes/suizhou-2021.yaml").read_bytes() == (ROOT / "schemes/suizhou-2021.yaml").read_bytes()
    for workflow in ROOT.glob(".github/workflows/gapctl*.yml"):
        assert (office / ".github/workflows" / workflow.name).read_bytes() == workflow.read_bytes()
    assert (office / "units/units.yaml").is_file() and (office / ".pre-commit-config.yaml").is_file()

    new = run(gapctl, "new", "round", "2024", "--scheme", "suizhou-2021", "--units", "units", "--year", "2024",
              cwd=office, env=env)
    assert new.returncode == 0, new.stderr
    checked = run(gapctl, "validate", cwd=office, env=env)
    # in Chinese: the message catalogue is in the wheel
    assert checked.returncode == 0 and "W503" in checked.stdout and "0 个错误" in checked.stdout
    scored = run(gapctl, "score", "rounds/2024", "--format", "json", cwd=office, env=env)
    assert scored.returncode == 0, scored.stderr
    assert "example-department" in scored.stdout
    assert run(gapctl, "score", "rounds/2024", "--final", cwd=office, env=env).returncode == 1  # all pending

    demo = run(gapctl, "init", "demo", "--from", "suizhou-2021", "--with-units", cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stderr
    assert (tmp_path / "demo/units/suizhou-gxq.yaml").read_bytes() == (ROOT / "units/suizhou-gxq.yaml").read_bytes()
    unknown = run(gapctl, "init", "elsewhere", "--from", "nowhere-2020", cwd=tmp_path, env=env)
    assert unknown.returncode == 1 and "suizhou-2021" in unknown.stderr and not (tmp_path / "elsewhere").exists()
