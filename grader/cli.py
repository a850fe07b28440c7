"""Command line for instructors and self-learners: ``python -m grader COMMAND``.

    release [ASSIGNMENT ...]      sync the lessons' text twins, generate course/, check for leaks
    twins [--check|--from-text|--from-notebook]   sync solutions/*/NAME.ipynb with NAME.py
    autograde [SUBMISSIONS]       grade submitted/{student}/{assignment}/ in parallel
                                  (--cluster tcp://host:8786: on a Dask cluster)
    feedback                      HTML feedback for every graded submission
    export [--format csv]         one row per student: assignments, graded cells, total
    check NOTEBOOK                grade one notebook against the hidden tests
"""
import argparse
import csv
import os
import pathlib
import shutil
import sys
import textwrap
import warnings

from grader import pipeline

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _root(args):
    return pathlib.Path(args.root).resolve()


def _sync_twins(root, assignments, prefer=None):
    """Sync the lessons' text twins; False (after saying why) when one cannot be."""
    from grader import twins  # jupytext: 0.3 s that a check does without
    try:
        for change in twins.sync_all(root, assignments, prefer=prefer):
            print(change)
    except twins.TwinError as e:
        print(f"error: {e}", file=sys.stderr)
        return False
    return True


def cmd_twins(args):
    from grader import twins
    root = _root(args)
    if args.check:
        found = [d for nb in twins.lessons(root)
                 if not args.assignments or nb.parent.name in args.assignments
                 if (d := twins.disagreement(nb))]
        for d in found:
            print(d, file=sys.stderr)
        if found:
            print("run `make release` (or python -m grader twins) to bring them into step", file=sys.stderr)
        return 1 if found else 0
    prefer = "text" if args.from_text else "notebook" if args.from_notebook else None
    return 0 if _sync_twins(root, args.assignments or None, prefer) else 2


def cmd_release(args):
    if not _sync_twins(_root(args), args.assignments or None):
        return 2
    problems = pipeline.release(_root(args), args.assignments or None, args.db)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print("released: " + ", ".join(args.assignments or pipeline.source_assignments(_root(args))))
    return 1 if problems else 0


def _status(r):
    if not r.ok:
        return "FAILED"
    parts = [f"{len(r.problems)} problem{'s' * (len(r.problems) != 1)}"] if r.problems else []
    parts += ["FLAGGED"] if r.flags else []
    parts += [f"{len(r.notes)} note{'s' * (len(r.notes) != 1)}"] if r.notes else []
    return "ok" + (" (" + ", ".join(parts) + ")" if parts else "")


def _summary(results):
    width = max([len(r.student) for r in results] + [7])
    awidth = max([len(r.assignment) for r in results] + [10])
    lines = [f"{'student':<{width}}  {'assignment':<{awidth}} {'score':>11}  {'time':>6}  result"]
    for r in results:
        score = f"{r.score:g}/{r.max_score:g}" if r.scores else "-"
        lines.append(f"{r.student:<{width}}  {r.assignment:<{awidth}} {score:>11}  {r.seconds:5.1f}s  {_status(r)}")
    details = []
    for r in results:
        items = ([f"FAILED: {r.reason}"] if not r.ok else []) + [f"problem: {p}" for p in r.problems] \
            + [f"FLAG: {f}" for f in r.flags] + [f"note: {n}" for n in r.notes]
        if items:
            details.append(f"{r.student} / {r.assignment}")
            details += [f"    {item}" for item in items]
    if details:
        lines += ["", "Details (failed submissions get zero in the gradebook; those not graded at all, "
                      "refused or lost, leave it as it was):"] + details
    return "\n".join(lines)


UNPROTECTED = ("WARNING: graded WITHOUT a sandbox (--no-sandbox): student code ran as this user, with "
               "this machine's files and network in reach; these grades are not protected.")


def cmd_autograde(args):
    from tqdm.auto import tqdm

    from grader.executor import sandbox
    root = _root(args)
    # on a cluster each worker starts the sandboxes (a task requires one and fails without)
    why = "" if args.no_sandbox or args.cluster else sandbox.probe()
    if why:
        print(f"autograde needs a sandbox for every submission and none can start here: {why}.\n"
              f"Install bubblewrap (bash .ci/install-bubblewrap), or pass --no-sandbox to grade "
              f"unprotected.", file=sys.stderr)
        return 2
    submitted = pathlib.Path(args.submissions or root / "submitted").resolve()
    if not submitted.is_dir():
        print(f"no submissions folder at {submitted}", file=sys.stderr)
        return 2
    total = len(pipeline.find_submissions(submitted))
    bar = tqdm(total=total, unit="submission", desc="autograde")
    failed = 0

    def progress(result):
        nonlocal failed
        failed += 0 if result.ok else 1
        bar.set_postfix(done=bar.n + 1, failed=failed)
        bar.update(1)

    from grader.engines import ClusterError
    lost = None
    try:
        results = pipeline.autograde(root, submitted, jobs=args.jobs, timeout=args.timeout,
                                     memory_mb=args.memory, db_url=args.db, progress=progress,
                                     notebook_timeout=args.notebook_timeout,
                                     new_students=not args.roster_only,
                                     sandbox="off" if args.no_sandbox else "require",
                                     cluster=args.cluster, force=args.force,
                                     cluster_timeout=args.cluster_timeout, full=args.full, warm=not args.cold)
    except ClusterError as e:
        lost, results = e, getattr(e, "results", [])
    bar.close()
    if args.no_sandbox:
        print(UNPROTECTED)
    if results:
        print(_summary(results))
    bad = [r for r in results if not r.ok]
    troubled = [r for r in results if r.ok and not r.clean]
    unchanged = sum(r.unchanged for r in results)
    print(f"{len(results) - len(bad)} graded, {len(bad)} failed, "
          f"{len(troubled)} graded with problems or flags"
          + (f" ({unchanged} unchanged since an earlier run, not graded again; --force grades them again)"
             if unchanged else ""))
    if args.no_sandbox:
        print(UNPROTECTED)
    if lost:
        print(f"error: {lost}\n{len(results)} of {total} submissions are finished and saved; run the same "
              f"command again to grade the rest.", file=sys.stderr)
        return 3
    return 1 if bad or troubled else 0


def cmd_feedback(args):
    problems = pipeline.feedback(_root(args), args.db)
    for p in problems:
        print(p, file=sys.stderr)
    n = len(list((_root(args) / "feedback").rglob("*.html"))) if (_root(args) / "feedback").exists() else 0
    print(f"{n} feedback files in {_root(args) / 'feedback'}")
    return 1 if problems else 0


def cmd_export(args):
    columns, rows = pipeline.export_rows(_root(args), args.db)
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    writer = csv.DictWriter(out, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    if args.output:
        out.close()
        print(f"{len(rows)} students written to {args.output}", file=sys.stderr)
    return 0


def _messages(autograded_nb):
    import nbformat
    nb = nbformat.read(autograded_nb, as_version=4)
    out = {}
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("grade") and c.cell_type == "code":
            errors = [o for o in c.get("outputs", []) if o.output_type == "error"]
            if errors:
                out[meta["grade_id"]] = f"{errors[0].ename}: {errors[0].evalue}"
    return out


CHECK_OPTIONS = ("notebook", "root", "timeout", "notebook_timeout", "memory", "full", "cold")


def cmd_check(args):
    root = _root(args)
    if args.stop:
        from grader import checkserver
        return checkserver.stop(root)
    if not args.notebook:
        print("check needs a NOTEBOOK (or --stop)", file=sys.stderr)
        return 2
    notebook = pathlib.Path(args.notebook).resolve()
    assignment = notebook.parent.name
    if not notebook.exists():
        print(f"no notebook at {notebook}", file=sys.stderr)
        return 2
    if assignment not in pipeline.source_assignments(root):
        print(f"{notebook} is not in an assignment folder of this course "
              f"({', '.join(pipeline.source_assignments(root))})", file=sys.stderr)
        return 2
    options = {name: getattr(args, name) for name in CHECK_OPTIONS} | {"notebook": str(notebook), "root": str(root)}
    from grader import checkserver
    if not args.no_server and checkserver.enabled():
        code = checkserver.check(root, options)
        if code is not None:
            return code
    return check_here(check_options(options))


def check_options(options):
    """The options of a check (as the command line gives them, or as the check server
    receives them) as the namespace ``check_here`` reads."""
    return argparse.Namespace(**{name: options[name] for name in CHECK_OPTIONS})


def check_here(args):
    """Grade one notebook in this process (the command's, or the check server's)."""
    root = pathlib.Path(args.root)
    notebook = pathlib.Path(args.notebook)   # an existing notebook of the course (cmd_check saw to it)
    assignment = notebook.parent.name
    from grader.executor import sandbox
    why = sandbox.probe()
    if why:
        print(f"notice: no sandbox here ({why}): your notebook runs unprotected, as you.")
    elif not args.cold:
        # the kernels' template starts (matplotlib's cache, then its imports, in processes
        # of their own) while this command reads the course and imports what grading uses
        from grader.executor import warm
        warm.prestart()
    with pipeline.temporary_course(root, assignment) as tmp:
        dest = tmp / "submitted" / "you" / assignment / notebook.name
        dest.parent.mkdir(parents=True)
        shutil.copy(notebook, dest)
        runs = "every cell of the notebook" if args.full else \
            "the notebook's setup, answers, tests and the cells they use; --full runs every cell"
        print(f"grading {notebook.name} against the hidden tests (this runs {runs})...")
        [result] = pipeline.autograde(tmp, jobs=1, timeout=args.timeout, memory_mb=args.memory,
                                      db_url=f"sqlite:///{tmp / 'gradebook.db'}",
                                      notebook_timeout=args.notebook_timeout,
                                      sandbox="off" if why else "require", full=args.full, warm=not args.cold,
                                      inline=True)
        graded = tmp / "autograded" / "you" / assignment / notebook.name
        messages = _messages(graded) if graded.exists() else {}
    if not result.ok:
        print(f"the notebook could not be graded: {result.reason}")
        return 1
    for item in [f"problem: {p}" for p in result.problems] + [f"FLAG: {f}" for f in result.flags] \
            + [f"note: {n}" for n in result.notes]:
        print(item)
    width = max(len(k) for k in result.scores)
    print(f"\n{'question':<{width}}  points   max  message")
    for gid, (score, max_score) in result.scores.items():
        msg = messages.get(gid, "")
        wrapped = textwrap.shorten(msg, 400) if msg else ""
        print(f"{gid:<{width}}  {score or 0:6g} {max_score:5g}  {wrapped}")
    print(f"\ntotal: {result.score:g} / {result.max_score:g}")
    return 0 if result.score == result.max_score else 1


COLD_HELP = ("start every kernel cold, importing numpy, torch and the rest itself, instead of forking it from "
             "a template that did (grader/executor/warm.py; as root only); the grades are the same")
FULL_HELP = ("run every cell of the notebook, not only the cells grading needs (the answers, the tests, the "
             "setup and the cells they use: grader/skipping.py); the grades are the same")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.environ.get("COURSE_ROOT", str(ROOT)),
                        help="course root holding nbgrader_config.py (default: this repository)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="sync the lessons' text twins, generate course/ from solutions/, "
                                       "check for leaks")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--db", help="gradebook SQLAlchemy URL (default: the course's)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("twins", help="sync each lesson notebook with its text twin (newer side wins)",
                       description="Bring solutions/*/NAME.ipynb and NAME.py into agreement. By default the "
                                   "newer file wins; a side edited since the last commit is never overwritten "
                                   "by an older one (choose with --from-text or --from-notebook).")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    side = p.add_mutually_exclusive_group()
    side.add_argument("--check", action="store_true", help="change nothing; exit 1 if a pair disagrees")
    side.add_argument("--from-text", action="store_true", help="rebuild each notebook from its twin")
    side.add_argument("--from-notebook", action="store_true", help="rewrite each twin from its notebook")
    p.set_defaults(func=cmd_twins)

    p = sub.add_parser("autograde", help="grade every submission in parallel")
    p.add_argument("submissions", nargs="?", help="folder laid out as {student}/{assignment}/ (default: submitted/)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: number of cores)")
    p.add_argument("--timeout", type=int, default=60, help="seconds per cell before it is interrupted")
    p.add_argument("--notebook-timeout", type=int, default=600,
                   help="seconds per notebook; cells left after that are not run")
    p.add_argument("--memory", type=int, default=4096, help="memory limit per kernel in MB")
    p.add_argument("--db", help="gradebook SQLAlchemy URL (default: gradebook.db at the root)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="grade without a sandbox where none can start (grades are then NOT protected: "
                        "every summary says so)")
    p.add_argument("--cluster", default=os.environ.get("GRADER_CLUSTER") or None, metavar="ADDRESS",
                   help="grade on the Dask cluster whose scheduler is at ADDRESS, e.g. tcp://host:8786 "
                        "(default: $GRADER_CLUSTER; without it, --jobs local processes; docs/scaling.md)")
    p.add_argument("--cluster-timeout", type=float, default=30, metavar="SECONDS",
                   help="how long to try reaching the cluster's scheduler (default: 30)")
    p.add_argument("--force", action="store_true",
                   help="grade again the submissions an earlier run graded and that have not changed since")
    p.add_argument("--roster-only", action="store_true",
                   help="grade only students already in the gradebook (nbgrader db student import); "
                        "report the others as unknown")
    p.add_argument("--full", action="store_true", help=FULL_HELP)
    p.add_argument("--cold", action="store_true", help=COLD_HELP)
    p.set_defaults(func=cmd_autograde)

    p = sub.add_parser("feedback", help="HTML feedback for every graded submission")
    p.add_argument("--db", help="gradebook SQLAlchemy URL")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("export", help="grades as CSV: one row per student")
    p.add_argument("--format", choices=["csv"], default="csv")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.add_argument("--db", help="gradebook SQLAlchemy URL")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("check", help="grade one notebook against the hidden tests; exit 0 only on full marks",
                       description="Grade one notebook against the hidden tests; exit 0 only on full marks. The "
                                   "first check starts a warm check server for the course, which grades the next "
                                   "checks at once and ends after 10 idle minutes (grader/checkserver.py).")
    p.add_argument("notebook", nargs="?")
    p.add_argument("--timeout", type=int, default=60, help="seconds per cell")
    p.add_argument("--notebook-timeout", type=int, default=600, help="seconds for the whole notebook")
    p.add_argument("--memory", type=int, default=4096, help="memory limit for the kernel in MB")
    p.add_argument("--full", action="store_true", help=FULL_HELP)
    p.add_argument("--cold", action="store_true", help=COLD_HELP)
    p.add_argument("--no-server", action="store_true",
                   help="grade in this process, not on the course's warm check server (also: GRADER_CHECK_SERVER=off)")
    p.add_argument("--stop", action="store_true", help="end the course's check server, if one runs")
    p.set_defaults(func=cmd_check)

    args = parser.parse_args(argv)
    # nbgrader 0.9's gradebook code trips SQLAlchemy 2 warnings that say nothing to a user
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
