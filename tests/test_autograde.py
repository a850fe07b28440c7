"""Real nbgrader autograde runs: the reference solutions get full marks; each realistic
wrong implementation loses exactly the points of its own cells, with feedback naming
the problem; correct but differently written code gets full marks."""
import importlib

import pytest

from tests.course import ASSIGNMENTS, autograded_messages, grades, make_course, nbgrader, solution_code, submit


def _groups():
    for assignment in ASSIGNMENTS:
        # tests/submissions/<topic>.py for assignment NN_<topic>
        students = importlib.import_module(f"tests.submissions.{assignment.split('_', 1)[1]}").STUDENTS
        names = sorted(students)
        # two courses per assignment, so that pytest-xdist can grade them side by side
        for k, group in enumerate((names[0::2], names[1::2])):
            yield pytest.param(assignment, {n: students[n] for n in group}, id=f"{assignment}-{k}")


@pytest.mark.parametrize("assignment, students", list(_groups()))
def test_autograde_gives_each_submission_the_points_it_deserves(tmp_path, assignment, students):
    make_course(tmp_path, [assignment])
    reference = solution_code(assignment)
    for student, spec in students.items():
        submit(tmp_path, assignment, student, {**reference, **spec["code"]})
    nbgrader(tmp_path, "autograde", assignment)
    scores = grades(tmp_path, assignment)
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
