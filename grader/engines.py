"""Where grading tasks run: this machine's process pool, a Dask cluster, or (``check``)
the command's own process.

Both take the same ``grader.task.Task`` objects and yield the same ``grader.task.Outcome``
objects, one per task, in the order they finish; the command (grader.pipeline) writes
each as it arrives and is the only writer to the gradebook. Nothing here touches the
course's folders.

On a cluster, a worker that dies mid-task (killed, out of memory) has its task re-run by
the scheduler on another worker; one that has taken ``allowed-failures`` workers with it
(Dask's ``distributed.scheduler.allowed-failures``, 3 by default) is given up and
reported, never retried forever. A scheduler that cannot be reached, or goes away,
raises ``ClusterError`` after the outcomes that finished have been yielded.
"""
import multiprocessing as mp
import queue
import uuid

from grader import task as grading


class ClusterError(RuntimeError):
    """The Dask scheduler cannot be reached or went away mid-run."""


def _failed(job, reason, **fields):
    from grader.pipeline import Result
    return grading.Outcome(Result(job.student, job.assignment, False, reason=reason, **fields), None, lost=True)


def local(jobs, processes, initializer, initargs, stall):
    """Grade ``jobs`` in ``processes`` spawned processes. A process that dies takes its task
    with it (the pool never reports it): after ``stall`` seconds without any outcome the
    remaining tasks are reported as lost."""
    done = queue.SimpleQueue()
    with mp.get_context("spawn").Pool(processes, initializer=initializer, initargs=initargs) as pool:
        for job in jobs:
            pool.apply_async(grading.grade, (job,), callback=done.put,
                             error_callback=lambda e, job=job: done.put(_failed(job, f"{type(e).__name__}: {e}")))
        left = {(j.student, j.assignment): j for j in jobs}
        while left:
            try:
                outcome = done.get(timeout=stall)
            except queue.Empty:
                for job in left.values():
                    yield _failed(job, f"no result after {stall:.0f} s: its grading process died")
                pool.terminate()
                return
            left.pop((outcome.result.student, outcome.result.assignment), None)
            yield outcome


def inline(jobs, initializer, initargs):
    """Grade ``jobs`` one after another in this process (``check``: one notebook, and no
    worker process to start and import everything again before it)."""
    initializer(*initargs)
    for job in jobs:
        yield grading.grade(job)


def _deaths(keys, dask_scheduler=None):
    """(On the scheduler.) How many workers died while running each task."""
    return {k: ts.suspicious for k in keys if (ts := dask_scheduler.tasks.get(k)) is not None}


def connect(address, timeout=30):
    """A client of the Dask scheduler at ``address`` (before any work: a wrong address
    fails in seconds, not after the course has been read)."""
    try:
        from distributed import Client
    except ImportError as e:   # pinned in requirements.txt; say so rather than fail deep inside
        raise ClusterError(f"--cluster needs dask.distributed ({e}): run `make setup`") from e
    import logging
    # the client logs its reconnection attempts with tracebacks; the command says it once, plainly
    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name.split(".")[0] == "distributed":
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {e}") from e


def cluster(jobs, client):
    """Grade ``jobs`` on the Dask cluster of ``client`` (from :func:`connect`; its caller closes it)."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker
    address = getattr(client.scheduler, "address", "its address")
    run = uuid.uuid4().hex[:8]
    try:
        # a grading task is never "pure": two runs of one submission are two gradings
        futures = {client.submit(grading.grade, job, key=f"grade-{run}-{i}", pure=False, retries=0): job
                   for i, job in enumerate(jobs)}
        for future in as_completed(futures, loop=client.loop):
            job = futures[future]
            if future.status == "cancelled":
                raise ClusterError(f"lost the Dask scheduler at {address} before "
                                   f"{job.student}/{job.assignment} was graded")
            try:
                deaths = client.run_on_scheduler(_deaths, [future.key]).get(future.key, 0)
            except Exception:   # the scheduler went away after this one finished: keep it
                deaths = 0
            if future.status == "error":
                error = future.exception()
                if isinstance(error, KilledWorker):
                    outcome = _failed(job, f"not graded: every grading worker it ran on died "
                                           f"({deaths or 'several'} tries); see the workers' logs")
                else:
                    outcome = _failed(job, f"{type(error).__name__}: {error}")
            else:
                outcome = future.result()
                if deaths:
                    outcome.result.notes.append(
                        f"graded again: {deaths} grading worker{'s' * (deaths != 1)} it was sent to died first")
            futures[future] = None   # the task's bytes and its result are not kept past here
            future.release()
            yield outcome
    except (OSError, TimeoutError) as e:
        raise ClusterError(f"lost the Dask scheduler at {address}: {type(e).__name__}: {e}") from e
