"""Instructor side of the course: reference implementations, grading checks, command line.

Hidden tests call ``grader.check(name, student_object, part)``. Students never get
this package; it imports the student toolkit, never the other way round.
"""
from grader.checks import check, check_answer, parts

__all__ = ["check", "check_answer", "parts"]
