"""An open verdict server for running a notebook outside grading (an instructor
running a solution notebook in JupyterLab, the course's own notebook tests).

``python -m grader.executor.local SOCKET PARENT_PID``: serves until the parent process
(the kernel that started it, through gradeclient) is gone. Unlike the graded path
there is no plan and no attribution: any check may be asked at any time, and the
verdict is told back so the cell shows it. It protects nothing and grades nothing;
the graded path (grader/executor/execute.py) never uses it.
"""
import os
import sys
import time

from grader.executor.verdicts import VerdictServer


def main(argv=None):
    path, parent = (argv or sys.argv[1:])[:2]
    server = VerdictServer(path, check_timeout=3600, open_mode=True)
    try:
        while True:
            time.sleep(1)
            try:
                os.kill(int(parent), 0)
            except OSError:
                return 0
    except KeyboardInterrupt:
        return 0
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
