"""What the engine tests (and benchmarks/bench_engine.py) run on: the Pulumi CLI built by tools/engine/build.sh,
found in its cache directory, and the fake provider plugins installed in a private PULUMI_HOME."""

from __future__ import annotations

import importlib.metadata
import os
import shlex
import sys
from pathlib import Path

from tests.engine.fake_provider import CLOUDS, FakeCloud

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "tools" / "engine" / "build.sh"


class EngineMissing(RuntimeError):
    pass


def engine_version() -> str:
    for line in (ROOT / "tools" / "engine" / "go.mod").read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["github.com/pulumi/pulumi/pkg/v3"]:
            return parts[1].removeprefix("v")
    raise EngineMissing("tools/engine/go.mod pins no github.com/pulumi/pulumi/pkg/v3")


def engine_bin() -> Path:
    """The directory holding the pinned `pulumi` build (the cache of tools/engine/build.sh)."""
    cache = Path(os.environ.get("ALIEN_PULUMI_ENGINE_CACHE") or Path.home() / ".cache" / "alien-pulumi" / "engine")
    bin_dir = cache / engine_version() / "bin"
    if not (bin_dir / "pulumi").is_file():
        raise EngineMissing(f"the Pulumi engine {engine_version()} is not built (no {bin_dir / 'pulumi'}): run "
                            f"{BUILD.relative_to(ROOT)} (needs Go >= 1.26; about 10 minutes on 2 cores)")
    return bin_dir


def plugin_version(cloud: str) -> str:
    """The version the pinned provider SDK asks the engine for (the SDK's own package version)."""
    return importlib.metadata.version(CLOUDS[cloud].sdk)


def install_plugins(home: Path, cloud_dir: Path, clouds: tuple[str, ...] = tuple(CLOUDS)) -> dict[str, Path]:
    """Install a fake ``pulumi-resource-<package>`` per cloud in ``home``'s plugin cache, laid out as
    `pulumi plugin install` lays out a real one (plugins/resource-<name>-v<version>/), each keeping its fake
    cloud under ``cloud_dir/<cloud>``. Returns each cloud's state directory."""
    states = {}
    for key in clouds:
        cloud, version = CLOUDS[key], plugin_version(key)
        directory = home / "plugins" / f"resource-{cloud.package}-v{version}"
        directory.mkdir(parents=True, exist_ok=True)
        states[key] = cloud_dir / key
        FakeCloud(states[key])
        script = directory / f"pulumi-resource-{cloud.package}"
        command = [sys.executable, "-m", "tests.engine.fake_provider", key, version, str(states[key])]
        script.write_text(f"#!/bin/sh\ncd {shlex.quote(str(ROOT))} && PYTHONPATH={shlex.quote(str(ROOT))} "
                          f"exec {shlex.join(command)} \"$@\"\n")
        script.chmod(0o755)
    return states


def engine_environment(home: Path) -> dict[str, str]:
    """Variables that make the engine use only the pinned build and the fakes: no ambient plugin from PATH,
    no download of a missing one (a version no fake provides fails, naming plugin and version)."""
    return {
        "PATH": f"{engine_bin()}{os.pathsep}{os.environ.get('PATH', '')}",
        "PULUMI_HOME": str(home),
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_CONFIG_PASSPHRASE": "alien-engine-tests",
    }
