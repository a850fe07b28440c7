"""Nothing a student can read holds another assignment's answers (grader/leaks.py): the
committed release and toolkit are clean, and `release` catches a planted copy of a
graded function, by name and renamed, in a notebook and in the toolkit."""
import re
import shutil
import subprocess
import sys

from grader import leaks
from tests.course import ROOT, solution_code


def test_the_release_and_the_toolkit_hold_no_graded_function_of_another_assignment():
    found = leaks.find(ROOT)
    assert not found, "\n".join(found)


def course_with_two_lessons(tmp):
    shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    (tmp / "solutions").mkdir()
    shutil.copy(ROOT / "solutions" / "jupytext.toml", tmp / "solutions")
    for a in ("01_momentum", "02_adaptive"):
        shutil.copytree(ROOT / "solutions" / a, tmp / "solutions" / a)
    return tmp


def release(root):
    return subprocess.run([sys.executable, "-m", "grader", "--root", str(root), "release"],
                          capture_output=True, text=True, cwd=root, timeout=600)


def plant(root, code):
    twin = root / "solutions" / "02_adaptive" / "adaptive.py"
    twin.write_text(twin.read_text() + "\n# %%\n" + code + "\n")


def test_release_catches_a_planted_copy_by_name_and_renamed(tmp_path):
    root = course_with_two_lessons(tmp_path)
    run = release(root)
    assert run.returncode == 0, run.stderr
    momentum = re.sub(r'\n    """.*?"""', "", solution_code("01_momentum")["momentum_step"], flags=re.S)

    plant(root, momentum)
    run = release(root)
    assert run.returncode == 1
    assert "course/02_adaptive/adaptive.ipynb cell" in run.stderr
    assert "defines momentum_step, graded in 01_momentum" in run.stderr

    renamed = momentum.replace("def momentum_step", "def heavy_ball")
    twin = root / "solutions" / "02_adaptive" / "adaptive.py"
    twin.write_text(twin.read_text().replace(momentum, renamed))
    run = release(root)
    assert run.returncode == 1 and "heavy_ball" not in run.stderr
    assert "holds a line of 01_momentum's solutions" in run.stderr


def test_the_toolkit_is_checked_too(tmp_path):
    root = course_with_two_lessons(tmp_path)
    assert release(root).returncode == 0
    (root / "toolkit").mkdir()
    (root / "toolkit" / "helpers.py").write_text(solution_code("02_adaptive")["rmsprop_step"])
    found = leaks.find(root)
    assert any(f.startswith("toolkit/helpers.py") and "defines rmsprop_step, graded in 02_adaptive" in f
               for f in found), found


def test_a_stub_is_not_a_copy():
    assert leaks._definitions("def sgd_step(x, g, lr):\n    '''doc'''\n    raise NotImplementedError()\n") == []
    assert leaks._definitions("def sgd_step(x, g, lr):\n    return x - lr * g\n") == [("sgd_step", 1)]
