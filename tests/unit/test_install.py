"""The environment is the lock: every package of requirements/test.lock at its pinned version."""

from __future__ import annotations

import importlib.metadata
import re
import sysconfig
from pathlib import Path

from packaging.utils import canonicalize_name

LOCKS = Path(__file__).parents[2] / "requirements"


def pins(lock: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock.read_text(), re.MULTILINE)
    return {canonicalize_name(name): version for name, version in found}


def test_every_locked_package_is_installed_at_its_pinned_version() -> None:
    # What pip installed into the environment; packages vendored inside another (Ray puts its
    # own copies on sys.path once imported) come with that package's pinned version.
    site = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version
        for d in importlib.metadata.distributions()
        if Path(str(d.locate_file(""))).resolve() in site
    }
    locked = pins(LOCKS / "test.lock") | pins(LOCKS / "data.lock")
    assert {n: installed.get(n) for n in locked if installed.get(n) != locked[n]} == {}
    allowed = set(locked) | set(pins(LOCKS / "bench.lock")) | {"lbrxvoicepro"}
    assert sorted(set(installed) - allowed) == []


def test_the_smaller_locks_agree_with_the_test_lock() -> None:
    locked = pins(LOCKS / "test.lock")
    for name in ("build", "demo", "bench"):
        other = pins(LOCKS / f"{name}.lock")
        assert {n: v for n, v in other.items() if locked.get(n, v) != v} == {}, name
    assert set(pins(LOCKS / "build.lock")) <= set(locked)
    assert set(pins(LOCKS / "demo.lock")) <= set(locked)
