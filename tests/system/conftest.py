"""pytest configuration for carechain's system tests.

The tests start real `carechain` nodes on loopback (port 0, each in its own
temporary folder) and talk to them over HTTP and through the CLI. Run:

    python3 -m pytest -q -p no:cacheprovider tests/system --carechain=build/src/carechain
"""
import os

import pytest

import cchelpers

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def pytest_addoption(parser):
    parser.addoption(
        "--carechain",
        action="store",
        default="build/src/carechain",
        help="path of the carechain binary (default: build/src/carechain, "
        "relative to the working folder or else to the repository root)",
    )


def _resolve_binary(path):
    candidates = [path]
    if not os.path.isabs(path):
        candidates.append(os.path.join(REPO_ROOT, path))
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    return None


@pytest.fixture(scope="session")
def carechain_bin(pytestconfig):
    path = pytestconfig.getoption("--carechain")
    resolved = _resolve_binary(path)
    if resolved is None:
        # Not a skip: a suite that silently runs nothing would pass CI.
        pytest.fail(f"carechain binary not found at {path!r} (build it, or pass --carechain=PATH)",
                    pytrace=False)
    return resolved


@pytest.fixture(scope="session")
def cli(carechain_bin):
    return cchelpers.Cli(carechain_bin)


@pytest.fixture
def node_factory(carechain_bin, tmp_path):
    """Creates demo networks and nodes in tmp_path; stops every node it
    started when the test ends (SIGKILL if a node ignores SIGTERM)."""
    factory = cchelpers.NodeFactory(carechain_bin, tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture(scope="module")
def module_node_factory(carechain_bin, tmp_path_factory):
    factory = cchelpers.NodeFactory(carechain_bin, tmp_path_factory.mktemp("mod"))
    yield factory
    factory.cleanup()
