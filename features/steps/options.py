"""The conformance suite's command-line options (a pytest plugin) and the technician's settings they make.

Registered once, as a plugin: the root ``conftest.py`` names it in ``pytest_plugins``, so the options
exist whatever paths a run names (in its first pass over the command line pytest reads the ``libvirt``
of ``pytest --backend libvirt`` as a path, and would not load ``features/conftest.py`` in time); a copy
of the features folder used on its own (the pytester meta-tests) loads it with ``-p steps.options``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from steps.selection import matches_phrase, phrase
from steps.technician import Settings

PHRASE = pytest.StashKey[str]()

# The longest one screen may take to come, by backend.
TIMEOUTS = {"process": 60.0, "libvirt": 300.0}
# Each POST prompt window, by backend: the technician's key comes within 40 ms here even with -n 2 and two
# CPU hogs (134 ms at worst, measured with 0.15 s windows); guests under TCG load the host much harder.
PROMPT_SECONDS = {"process": 0.2, "libvirt": 0.5}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("g7 features", "G7 recovery lab conformance suite")
    group.addoption(
        "--backend",
        choices=("process", "libvirt"),
        default="process",
        help="boot backend of the simulated servers (default process; libvirt runs only @libvirt)",
    )
    group.addoption(
        "--prompt-seconds",
        type=float,
        default=None,
        metavar="S",
        help="length of each POST prompt window (default 0.2 s, libvirt 0.5 s)",
    )
    group.addoption(
        "--real-time-windows",
        action="store_true",
        help="wait out every POST prompt window in full (default: a window the scenario is not "
        "going to answer ends at once, see simulator/firmware/fastforward.py)",
    )
    group.addoption(
        "--screens",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep every screen of every scenario as text + PNG: DIR/<test>/visit-N/NNN-name.*",
    )
    group.addoption(
        "--book",
        type=Path,
        default=None,
        metavar="DIR",
        help="write the procedure book of the run into DIR: a static HTML site, index.html (an earlier "
        "book there is replaced; see features/README.md)",
    )
    group.addoption(
        "--libvirt-uri",
        action="append",
        default=None,
        metavar="URI",
        help="libvirt backend: a hypervisor to boot the guests on; repeat it for a pool of hosts, the "
        "pytest-xdist workers are spread over them (default $G7SIM_LIBVIRT_URI or qemu:///session)",
    )
    group.addoption(
        "--libvirt-hosts",
        type=Path,
        default=None,
        metavar="FILE",
        help="libvirt backend: a TOML pool file of hosts (uri, capacity, pool_root; steps/hosts.py)",
    )
    group.addoption(
        "--screen-timeout",
        type=float,
        default=None,
        metavar="S",
        help="longest wait for one screen (default 60 s, libvirt 300 s)",
    )


def settings(config: pytest.Config, test_name: str) -> Settings:
    """One scenario's settings from the options (``test_name`` names its folder under ``--screens``)."""
    backend = config.getoption("--backend")
    timeout = config.getoption("--screen-timeout") or TIMEOUTS[backend]
    screens = config.getoption("--screens")
    if screens is not None:
        screens = screens.resolve() / re.sub(r"[^\w.-]+", "_", test_name)[:120]
    prompt = config.getoption("--prompt-seconds") or PROMPT_SECONDS[backend]
    fast_forward = not config.getoption("--real-time-windows")
    return Settings(backend, prompt, timeout, screens, fast_forward)


# ---- -k "SQL Server" (steps/selection.py) ---------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """A ``-k`` of plain words (the READMEs' ``-k "SQL Server"``) is one phrase, not a syntax error;
    ``--book DIR`` registers the procedure book's plugin (``steps/book.py``)."""
    book = config.getoption("--book", default=None)
    if book is not None and not config.option.collectonly:
        from steps.book import BookPlugin  # start-up: Jinja2 and the renderer load only for a book

        config.pluginmanager.register(BookPlugin(config, book.resolve()), "g7-procedure-book")
    words = phrase(config.option.keyword or "")
    if words is not None:
        config.stash[PHRASE] = words
        config.option.keyword = ""  # pytest's own -k would refuse it
    if conformance_only(config):
        # No scenario uses Hypothesis, but its plugin's session summary imports all of it (0.8 s of CPU,
        # trio included) at the end of every run, on the critical path of an xdist run's controller
        config.pluginmanager.unregister(name="hypothesispytest")


def conformance_only(config: pytest.Config) -> bool:
    """Whether this run collects the conformance suite (features/) and nothing else."""
    features = Path(__file__).resolve().parent.parent
    paths = [Path(str(arg).split("::", 1)[0]) for arg in config.args] or [Path(config.invocation_params.dir)]
    inside = [(config.invocation_params.dir / path).resolve().is_relative_to(features) for path in paths]
    return bool(inside) and all(inside)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    words = config.stash.get(PHRASE, None)
    if words is None:
        return
    keep = [item for item in items if matches_phrase(item, words)]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if not matches_phrase(item, words)])
        items[:] = keep
