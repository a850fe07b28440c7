"""Fixtures of the browser tests: one JupyterLab server and one chromium per test
session (per xdist worker: run with --dist loadgroup so that one worker takes them all),
a fresh browser context and page per test.

Where Debian's chromium is missing the tests skip with the reason, except in CI
(CI set), where .ci/install-browser has to have installed it: there they fail.
"""
import os

import pytest

from tests.e2e.browser import VIEWPORT, Lab, chromium_missing_reason, launch_chromium


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Make ``--dist loadgroup`` group the browser tests on one worker again.

    pytest-xdist (3.8.0) marks a grouped test by appending "@group" to its nodeid, which
    it sets through the legacy ``item._nodeid``; pytest 9.2 keeps the nodeid in a
    structured ``item._id`` instead, so the suffix is silently lost and the tests are
    spread over the workers (pytest-xdist issue 1386). On an xdist worker under
    loadgroup, set the suffix where it is missing, as xdist means to."""
    if not (hasattr(config, "workerinput") and getattr(config.option, "loadgroup", False)):
        return
    for item in items:
        groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                         for m in item.iter_markers("xdist_group")})
        if not groups or item.nodeid.rfind("@") > item.nodeid.rfind("]"):
            continue  # not grouped, or xdist did it (the test of xdist's own scheduler)
        nodeid = f"{item.nodeid}@{'_'.join(groups)}"
        if hasattr(item, "_id"):  # pytest >= 9.2: a structured NodeId
            from _pytest.nodeid import NodeId
            item._id = NodeId.parse(nodeid)
        else:
            item._nodeid = nodeid


def require_browser():
    reason = chromium_missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}. In CI the browser tests must run: .ci/install-browser installs it.")
        pytest.skip(reason)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        pytest.fail(f"playwright is missing ({e}); it is pinned in requirements.txt: run `make setup`")


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    require_browser()
    server = Lab(tmp_path_factory.mktemp("jupyterlab")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    require_browser()
    from playwright.sync_api import sync_playwright
    playwright = sync_playwright().start()
    browser = launch_chromium(playwright)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(lab, chromium):
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(120_000)
    page = context.new_page()
    yield page
    context.close()
    lab.shutdown_kernels()  # the next notebook gets the machine's cores
