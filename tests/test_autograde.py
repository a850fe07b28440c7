"""Real nbgrader autograde runs: the reference solutions get full marks; each realistic
wrong implementation loses exactly the points of its own cells, with feedback naming
the problem; correct but differently written code gets full marks. Each class is graded
twice, running only the cells grading needs (the default, grader/skipping.py) and every
cell (``RebuildFromSource.full``, the command's --full): the grades and the feedback
messages must be the same."""
import importlib

import pytest

from tests.course import ASSIGNMENTS, autograded_messages, grades, make_course, nbgrader, solution_code, submit


def _groups():
    # one course per assignment: nbgrader's start, the course build and the warm-kernel
    # template are paid once for its whole catalogue (pytest-xdist runs the seven side by side)
    for assignment in ASSIGNMENTS:
        # tests/submissions/<topic>.py for assignment NN_<topic>
        students = importlib.import_module(f"tests.submissions.{assignment.split('_', 1)[1]}").STUDENTS
        yield pytest.param(assignment, dict(sorted(students.items())), id=assignment)


def _outcome(root, assignment, students):
    """The grades, and for each graded cell that failed, its error and the known mistake
    its message names: every run draws its own random inputs, so the rest of a message
    (the case, the numbers) differs from run to run."""
    scores = grades(root, assignment)
    messages = {s: {cell: (text.split(":")[0], text.partition("This matches a known mistake")[2])
                    for cell, text in autograded_messages(root, assignment, s).items() if cell in scores[s]}
                for s in students}
    return scores, messages


@pytest.mark.parametrize("assignment, students", list(_groups()))
def test_autograde_gives_each_submission_the_points_it_deserves(tmp_path, assignment, students):
    make_course(tmp_path, [assignment])
    reference = solution_code(assignment)
    for student, spec in students.items():
        submit(tmp_path, assignment, student, {**reference, **spec["code"]})
    nbgrader(tmp_path, "autograde", assignment, "--RebuildFromSource.full=True")
    full = _outcome(tmp_path, assignment, students)
    nbgrader(tmp_path, "autograde", assignment, "--force")
    planned = _outcome(tmp_path, assignment, students)
    scores = planned[0]
    differ = [f"{s}/{cell}: {what} {p!r} with the cells grading needs, {f!r} with every cell"
              for what, mine, theirs in (("score", planned[0], full[0]), ("message", planned[1], full[1]))
              for s in students for cell in sorted(set(mine[s]) | set(theirs[s]))
              if (p := mine[s].get(cell)) != (f := theirs[s].get(cell))]
    assert not differ, "\n".join(differ)
    problems = []
    for student, spec in students.items():
        messages = autograded_messages(tmp_path, assignment, student)
        for cell, (score, max_score) in scores[student].items():
            if max_score == 0:
                continue
            if cell in spec["loses"]:
                if score != 0:
                    problems.append(f"{student}: {cell} should score 0, scored {score}/{max_score}")
                elif spec["loses"][cell] not in messages.get(cell, ""):
                    problems.append(f"{student}: feedback of {cell} does not name the problem "
                                    f"({spec['loses'][cell]!r}): {messages.get(cell)!r}")
            elif score != max_score:
                problems.append(f"{student}: {cell} should get full marks, scored {score}/{max_score}: "
                                f"{messages.get(cell, '')[:300]}")
        unknown = set(spec["loses"]) - set(scores[student])
        if unknown:
            problems.append(f"{student}: no graded cells named {sorted(unknown)}")
    assert not problems, "\n".join(problems)
