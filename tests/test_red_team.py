"""Red team: submissions that try to win points, read secrets or do damage, graded by
the real command line in one run.

One module-scoped fixture builds a tiny course (00_tiny: sgd_step 2 points,
momentum_step 3) in a temporary folder, plants canaries (an environment variable of
the autograde process, a file at the course root, a comment in the instructor's hidden
tests, a token in another student's answer, the gradebook's path, lines of the
grader's source), hands in every attack of tests/attacks.py and two honest students,
runs ONE ``autograde --jobs 2`` and then ``feedback`` and ``export``. The tests read
what that run left behind:

1. no attack scores more than its answer code deserves;
2. no canary appears in any output (summary, autograded notebooks, feedback);
3. the honest students keep exactly their grades, no file of the course outside
   autograded/, feedback/ and the gradebook changes;
4. nothing of any submission still runs after autograde returns;
5. tampering the grader can see is FLAGGED in that student's summary details.
"""
import csv
import fcntl
import hashlib
import io
import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import nbformat
import pytest

from tests.attacks import ATTACKS, MOMENTUM, SGD, WRONG_MOMENTUM, hexpr, render
from tests.course import ROOT, env, fill, summary_details, tiny_notebook

pytestmark = pytest.mark.xdist_group("red_team")

A = "00_tiny"
NB = "tiny.ipynb"
TIMEOUT, NOTEBOOK_TIMEOUT, MEMORY_MB, JOBS = 10, 60, 2048, 2
# a pool of sandbox users of this run's own, so that kernels of tests running beside it
# (other xdist workers grading other classes) never count as this run's leftovers
UID_BASE = 63000
UID_RANGE = range(UID_BASE, UID_BASE + 1000)
if os.environ.get("RED_TEAM_ONLY") and os.environ.get("CI", "").lower() != "true":
    # while working on a few attacks: RED_TEAM_ONLY=name,name (ignored in CI)
    ATTACKS = [a for a in ATTACKS if a.name in os.environ["RED_TEAM_ONLY"].split(",")]
BY_NAME = {a.name: a for a in ATTACKS}


# ------------------------------------------------------------------ the course

def instructor_notebook(canary):
    return tiny_notebook("A tiny assignment for the red team", canary)


def _grader(root, *args, extra_env=None, timeout=1800):
    return subprocess.run([sys.executable, "-m", "grader", "--root", str(root), *args], cwd=ROOT,
                          env={**env(), **(extra_env or {})}, capture_output=True, text=True, timeout=timeout)


def _first_docstring_line(path):
    text = path.read_text()
    return text.split('"""')[1].strip().splitlines()[0]


def _host_ip():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))   # no packet is sent: only picks the outgoing interface
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


# ------------------------------------------------------------------ observing the host

class Listener:
    """A TCP and a UDP server on every host address, recording who reached them."""

    def __init__(self):
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("0.0.0.0", 0))
        self.tcp.listen(16)
        self.tcp.settimeout(0.5)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("0.0.0.0", self.port))
        self.udp.settimeout(0.5)
        self.seen = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=f, daemon=True) for f in (self._tcp, self._udp)]
        for t in self._threads:
            t.start()

    def _tcp(self):
        while not self._stop.is_set():
            try:
                conn, peer = self.tcp.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    data = conn.recv(100)
                except OSError:
                    data = b""
            self.seen.append(("tcp", peer, data))

    def _udp(self):
        while not self._stop.is_set():
            try:
                data, peer = self.udp.recvfrom(100)
            except OSError:
                continue
            self.seen.append(("udp", peer, data))

    def close(self):
        self._stop.set()
        for t in self._threads:
            t.join(2)
        self.tcp.close()
        self.udp.close()


def _uid_lease_held(uid):
    """Whether a live grading process holds the sandbox uid (grader/executor/sandbox.py's UidLease)."""
    from grader.executor.sandbox import LEASES
    path = LEASES / str(uid)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _processes():
    """(pid, real uid, command line) of every process of the host."""
    out = []
    for p in pathlib.Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            uid = int(next(ln for ln in (p / "status").read_text().splitlines()
                           if ln.startswith("Uid:")).split()[1])
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, StopIteration, ValueError):
            continue
        out.append((int(p.name), uid, cmd))
    return out


def leftovers(mark):
    """Processes a graded submission left behind: a sandbox uid no grading process
    holds any more, or a command line carrying the attacks' marker."""
    return [(pid, uid, cmd[:200]) for pid, uid, cmd in _processes()
            if pid != os.getpid() and ((uid in UID_RANGE and not _uid_lease_held(uid)) or mark in cmd)]


class Sampler:
    """Peak memory of the autograde process tree (the trusted side) while it runs."""

    def __init__(self, pid):
        import psutil
        self.root = psutil.Process(pid)
        self.peak_rss, self.peak_total, self.peak_threads, self.uids = 0, 0, 0, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        import psutil
        while not self._stop.is_set():
            total = 0
            try:
                procs = [self.root] + self.root.children(recursive=True)
            except psutil.Error:
                procs = []
            for p in procs:
                try:
                    uid = p.uids().real
                    rss = p.memory_info().rss
                    threads = p.num_threads()
                except psutil.Error:
                    continue
                self.uids.add(uid)
                if uid == os.getuid():
                    self.peak_rss = max(self.peak_rss, rss)
                    self.peak_threads = max(self.peak_threads, threads)
                    total += rss
            self.peak_total = max(self.peak_total, total)
            self._stop.wait(0.3)

    def stop(self):
        self._stop.set()
        self._thread.join(5)


def _snapshot(root):
    """relative path -> content hash (symlinks by their target) of every file of the
    course except what grading writes: autograded/, feedback/, the gradebook, the
    command's own records of what it finished (.grader/graded/, grader/records.py) and
    the assignment's structure it built (.grader/build/, grader.pipeline.structure)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        records = rel.parts[:2] in ((".grader",), (".grader", "graded"), (".grader", "build"))
        if rel.parts[0] in ("autograded", "feedback") or records or rel.name.startswith("gradebook.db"):
            continue
        if p.is_symlink():
            out[str(rel)] = "link:" + os.readlink(p)
        elif p.is_file():
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[str(rel) + "/"] = "dir"
    return out


def _details(stdout, student):
    return summary_details(stdout, student)


def _is_test_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution")


def _outputs_text(nb):
    parts = []
    for c in nb.get("cells", []):
        for o in c.get("outputs", []):
            parts.append(o.get("text", "") if isinstance(o.get("text"), str) else "".join(o.get("text", [])))
            for v in (o.get("data") or {}).values():
                parts.append(v if isinstance(v, str) else json.dumps(v))
            if o.get("output_type") == "error":
                parts.append(f"{o.get('ename')}: {o.get('evalue')}")
    return "\n".join(parts)


def _graded_notebook(root, student):
    path = root / "autograded" / student / A / NB
    return json.loads(path.read_text()) if path.exists() else None


def _visible_text(nb):
    """The autograded notebook as text, the test cells' sources left out: they are the
    instructor's hidden tests, which nbgrader's autograded notebooks hold by design."""
    nb = json.loads(json.dumps(nb))
    for c in nb.get("cells", []):
        if _is_test_cell(c):
            c["source"] = ""
    return json.dumps(nb, ensure_ascii=False)


# ------------------------------------------------------------------ the run

@pytest.fixture(scope="module")
def red(tmp_path_factory):
    from grader.executor import sandbox
    why = sandbox.probe()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the red team needs the grading sandbox, and CI must provide it: {why}")
        pytest.skip(f"no grading sandbox on this machine ({why}): the red team tests the sandboxed grader")

    root = tmp_path_factory.mktemp("redteam")
    tok = {k: f"{k}canary-{secrets.token_hex(12)}" for k in ("env", "file", "instructor", "student")}
    mark = f"rt-mark-{secrets.token_hex(6)}"
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "solutions" / A).mkdir(parents=True)
    nbformat.write(instructor_notebook(tok["instructor"]), root / "solutions" / A / NB)
    (root / "secret-canary.txt").write_text(f"the course's secret: {tok['file']}\n")
    out = _grader(root, "release")
    assert out.returncode == 0, out.stdout + out.stderr
    released = root / "course" / A / NB
    gradebook = root / "gradebook.db"
    assert gradebook.exists()

    honest = {
        "honest-correct": ({"sgd_step": SGD, "momentum_step": MOMENTUM + f"# my notes: {tok['student']}\n"}, 5),
        "honest-wrong": ({"sgd_step": SGD, "momentum_step": WRONG_MOMENTUM}, 2),
    }
    other_nb = root / "submitted" / "honest-correct" / A / NB
    reference = ROOT / "grader" / "reference" / "momentum.py"
    listener = Listener()
    paths = {"canary_file": root / "secret-canary.txt", "gradebook": gradebook, "other_nb": other_nb,
             "reference": reference, "root": root}
    ctx = {"ROOT": hexpr(str(root)), "GRADEBOOK": hexpr(str(gradebook)), "OTHER_NB": hexpr(str(other_nb)),
           "REPO": hexpr(str(ROOT)), "HOSTIP": hexpr(_host_ip()), "GRADEBOOK_HEX": str(gradebook).encode().hex(),
           "PORT": str(listener.port), "MARK": mark, "paths": paths}
    for student, (answers, _) in honest.items():
        fill(released, answers, root / "submitted" / student / A / NB)
    for attack in ATTACKS:
        dest = root / "submitted" / attack.student / A / NB
        fill(released, {gid: render(src, ctx) for gid, src in attack.answers.items()}, dest)
        if attack.change:
            nb = nbformat.read(dest, as_version=4)
            attack.change(nb)
            nbformat.write(nb, dest)
    for attack in ATTACKS:   # after every notebook exists: links may point to other students' files
        if attack.files:
            attack.files(root / "submitted" / attack.student / A, ctx)

    before = _snapshot(root)
    repo_before = {p for p in ROOT.rglob(f"zz_red_team_{mark}*")}
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", "--root", str(root), "autograde", "--jobs", str(JOBS),
         "--timeout", str(TIMEOUT), "--notebook-timeout", str(NOTEBOOK_TIMEOUT), "--memory", str(MEMORY_MB)],
        cwd=ROOT, env={**env(), "GRADER_CANARY_ENV": tok["env"], "GRADER_UID_BASE": str(UID_BASE)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid)
    try:
        stdout, stderr = proc.communicate(timeout=1800)
    finally:
        sampler.stop()
    seconds = time.monotonic() - start
    left_now = leftovers(mark)
    time.sleep(3)
    left_later = leftovers(mark)
    feedback = _grader(root, "feedback")
    export = _grader(root, "export")
    after = _snapshot(root)
    listener.close()
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(export.stdout))}

    result = SimpleNamespace(
        root=root, tok=tok, mark=mark, port=listener.port, honest=honest, stdout=stdout, stderr=stderr,
        returncode=proc.returncode,
        feedback=feedback, export=export, rows=rows, before=before, after=after, seconds=seconds,
        left_now=left_now, left_later=left_later, net=list(listener.seen), sampler=sampler,
        created=sorted({str(p) for p in ROOT.rglob(f"zz_red_team_{mark}*")} - {str(p) for p in repo_before}),
        secrets={
            "environment variable": tok["env"],
            "secret-canary.txt": tok["file"],
            "instructor's hidden tests": tok["instructor"],
            "another student's answer": tok["student"],
            "gradebook path": str(gradebook),
            "grader/reference/momentum.py": _first_docstring_line(reference),
            "grader/checks/steps.py": _first_docstring_line(ROOT / "grader" / "checks" / "steps.py"),
        })
    _write_report(result)
    yield result

    # whatever an attack left behind, found by its marker or its orphaned sandbox uid
    for pid, _, cmd in leftovers(mark):
        if mark in cmd:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
    for p in result.created:
        pathlib.Path(p).unlink(missing_ok=True)


def _write_report(r):
    """red-team-report.json beside the course: per attack, what it got and what it printed."""
    report = {"seconds": round(r.seconds, 1), "returncode": r.returncode,
              "peak_rss_mb": r.sampler.peak_rss >> 20, "peak_total_mb": r.sampler.peak_total >> 20,
              "peak_threads": r.sampler.peak_threads,
              "leftovers_now": r.left_now, "leftovers_later": r.left_later, "net": [str(x) for x in r.net],
              "stdout_bytes": len(r.stdout), "created": r.created, "attacks": {}}
    for a in ATTACKS + [SimpleNamespace(name=n, kind="honest", worth=w) for n, (_, w) in r.honest.items()]:
        nb = _graded_notebook(r.root, a.name)
        path = r.root / "autograded" / a.name / A / NB
        report["attacks"][a.name] = {
            "kind": a.kind, "worth": a.worth, "score": r.rows.get(a.name, {}).get(A),
            "details": _details(r.stdout, a.name)[:30],
            "notebook_bytes": path.stat().st_size if path.exists() else None,
            "rt": [ln[:400] for ln in _outputs_text(nb).splitlines() if ln.startswith("RT")][:80] if nb else [],
        }
    (r.root.parent / "red-team-report.json").write_text(json.dumps(report, indent=1, default=str))


def _feedback_html(root, student):
    pages = list((root / "feedback" / student / A).glob("*.html")) if (root / "feedback" / student).exists() else []
    return "\n".join(p.read_text(errors="replace") for p in pages)


def _score(red, student):
    row = red.rows.get(student)
    return float(row[A] or 0) if row else 0.0


# ------------------------------------------------------------------ per attack

@pytest.mark.parametrize("name", list(BY_NAME))
def test_score_is_at_most_what_the_answer_code_deserves(red, name):
    attack = BY_NAME[name]
    got = _score(red, name)
    assert got <= attack.worth, (f"{name} ({attack.what}) scored {got}, its answer code deserves "
                                 f"{attack.worth}\n" + "\n".join(_details(red.stdout, name)))


@pytest.mark.parametrize("name", list(BY_NAME))
def test_no_secret_reaches_its_notebook_feedback_or_summary(red, name):
    nb = _graded_notebook(red.root, name)
    places = {"autograded notebook": _visible_text(nb) if nb else "",
              "feedback": _feedback_html(red.root, name),
              "summary details": "\n".join(_details(red.stdout, name))}
    found = [(what, where) for what, secret in red.secrets.items() for where, text in places.items()
             if secret in text]
    assert not found, f"{name} ({BY_NAME[name].what}) leaked: {found}"


@pytest.mark.parametrize("name", list(BY_NAME))
def test_the_sandbox_held(red, name):
    """Attack code prints RT-BREACH when something the sandbox must forbid worked."""
    nb = _graded_notebook(red.root, name)
    breaches = [ln for ln in _outputs_text(nb).splitlines() if "RT-BREACH" in ln] if nb else []
    assert not breaches, f"{name}: " + "\n".join(b[:300] for b in breaches[:10])


FLAGGED = [a.name for a in ATTACKS if a.flags]


@pytest.mark.parametrize("name", FLAGGED)
def test_the_summary_flags_what_it_tried(red, name):
    flags = [ln for ln in _details(red.stdout, name) if ln.startswith("FLAG: ")]
    missing = [phrase for phrase in BY_NAME[name].flags if not any(phrase in f for f in flags)]
    assert not missing, f"{name}: no FLAG line with {missing}; its flags:\n" + "\n".join(flags)


# ------------------------------------------------------------------ the whole run

def test_the_run_grades_every_submission_in_time(red):
    assert red.seconds < 600, f"autograde took {red.seconds:.0f} s"
    for a in ATTACKS:
        assert any(line.startswith(f"{a.name} ") for line in red.stdout.splitlines()), \
            f"{a.name} has no line in the summary:\n{red.stdout[:3000]}"


def test_honest_students_keep_exactly_their_grades_and_a_clean_summary(red):
    for student, (_, worth) in red.honest.items():
        assert _score(red, student) == worth, f"{student}: {_score(red, student)} instead of {worth}"
        assert not _details(red.stdout, student), \
            f"{student}'s summary shows things it never did:\n" + "\n".join(_details(red.stdout, student))
        line = next(ln for ln in red.stdout.splitlines() if ln.startswith(f"{student} "))
        assert line.rstrip().endswith(" ok"), line


def test_no_secret_in_any_output_of_the_run(red):
    texts = {"autograde stdout": red.stdout, "autograde stderr": red.stderr,
             "feedback stdout": red.feedback.stdout + red.feedback.stderr,
             "export": red.export.stdout + red.export.stderr}
    own = {"honest-correct": red.tok["student"]}
    for student_dir in (red.root / "autograded").iterdir():
        nb = _graded_notebook(red.root, student_dir.name)
        if nb:
            texts[f"autograded/{student_dir.name}"] = _visible_text(nb)
        texts[f"feedback/{student_dir.name}"] = _feedback_html(red.root, student_dir.name)
    found = []
    for where, text in texts.items():
        student = where.split("/", 1)[1] if "/" in where else None
        for what, secret in red.secrets.items():
            if secret in text and own.get(student) != secret:
                found.append(f"{what} in {where}")
    assert not found, "\n".join(found)


def test_no_file_of_the_course_changed_but_the_graded_outputs(red):
    changed = sorted(k for k in set(red.before) | set(red.after) if red.before.get(k) != red.after.get(k))
    assert not changed, f"changed or new outside autograded/, feedback/ and the gradebook: {changed[:20]}"


def test_the_repository_and_environment_got_no_new_files(red):
    assert not red.created, red.created


def test_nothing_of_any_submission_runs_after_autograde(red):
    assert not red.left_now and not red.left_later, \
        f"still running after autograde returned: {red.left_now}\n3 s later: {red.left_later}"


def test_no_submission_reached_the_hosts_network(red):
    assert not red.net, f"the host's listener on port {red.port} was reached: {red.net}"


TRUSTED_RSS_MB, TRUSTED_THREADS = 1024, 100   # a grading worker needs ~300 MB and ~10 threads


def test_the_trusted_side_bounds_what_a_kernel_makes_it_hold(red):
    """What a kernel sends cannot make a grading process grow without bound: the
    grader's memory and threads stay near what grading itself needs, whatever the
    kernel sends (r-memory-amplification: 4 requests of 48 MB; r-connection-flood:
    600 silent connections). Past such a bound, more connections would take the
    machine, and every other student's grading on it, down."""
    rss_mb, threads = red.sampler.peak_rss >> 20, red.sampler.peak_threads
    assert rss_mb < TRUSTED_RSS_MB and threads < TRUSTED_THREADS, (
        f"a grading process reached {rss_mb} MB and {threads} threads "
        f"(bounds {TRUSTED_RSS_MB} MB, {TRUSTED_THREADS} threads)")


def test_the_gradebook_holds_only_what_the_run_decided(red):
    """Every student's total in the gradebook is the sum the summary printed (no write
    from inside a kernel, no delayed rewrite by a process left behind)."""
    time.sleep(1)
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{red.root / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(A):
            for nb in sub.notebooks:
                for g in nb.grades:
                    assert g.score <= g.max_score, f"{sub.student.id}/{g.name}: {g.score} > {g.max_score}"
    for a in ATTACKS:
        line = next((ln for ln in red.stdout.splitlines() if ln.startswith(f"{a.name} ")), "")
        shown = line.split()[2] if len(line.split()) > 2 else "-"
        if "/" in shown:
            assert float(shown.split("/")[0]) == _score(red, a.name), f"{a.name}: summary {shown}, export " \
                                                                      f"{_score(red, a.name)}"


def test_every_attack_gets_the_same_grades_when_every_cell_runs(red, tmp_path):
    """The class graded again with ``--full`` (every cell, not only the cells grading
    needs: grader/skipping.py), in a copy of the course as it was handed in: the
    gradebook export is the same. Last in the module: the fixture's teardown stops
    whatever this run's attacks leave behind, as for the first run."""
    again = tmp_path / "course"
    shutil.copytree(red.root, again, symlinks=True,
                    ignore=shutil.ignore_patterns("autograded", "feedback", ".grader", "gradebook.db*"))
    run = _grader(again, "autograde", "--jobs", str(JOBS), "--timeout", str(TIMEOUT), "--notebook-timeout",
                  str(NOTEBOOK_TIMEOUT), "--memory", str(MEMORY_MB), "--full",
                  extra_env={"GRADER_UID_BASE": str(UID_BASE)})
    assert run.returncode == red.returncode, run.stdout[-3000:] + run.stderr[-3000:]
    export = _grader(again, "export")
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(export.stdout))}
    differ = [f"{s}: {rows.get(s)} with every cell, {red.rows.get(s)} with the cells grading needs"
              for s in sorted(set(rows) | set(red.rows)) if rows.get(s) != red.rows.get(s)]
    assert not differ, "\n".join(differ)
