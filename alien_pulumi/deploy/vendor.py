"""The vendor's own facts (its release principal per cloud, its Azure OIDC issuer), so registering a
deployment needs only the customer's. From ``ALIEN_PULUMI_*`` environment variables, else a TOML file in
the user config directory (``$ALIEN_PULUMI_CONFIG`` names another)::

    [aws]
    vendor_principal = "arn:aws:iam::111122223333:role/alien-release"
    [gcp]
    vendor_principal = "alien-release@vendor-release.iam.gserviceaccount.com"
    [azure]
    vendor_principal = "repo:vendor/release:environment:prod"
    vendor_oidc_issuer = "https://token.actions.githubusercontent.com"
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from alien_pulumi.errors import ContextError
from alien_pulumi.model.types import Platform

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_ENV = "ALIEN_PULUMI_CONFIG"
VENDOR_KEYS: dict[Platform, tuple[str, ...]] = {
    Platform.AWS: ("vendor_principal",),
    Platform.GCP: ("vendor_principal",),
    Platform.AZURE: ("vendor_principal", "vendor_oidc_issuer"),
}


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(CONFIG_ENV) or Path(platformdirs.user_config_dir("alien-pulumi")) / "config.toml")


def env_name(platform: Platform, key: str) -> str:
    return f"ALIEN_PULUMI_{platform.value.upper()}_{key.upper()}"


def sources(platform: Platform, key: str, environ: Mapping[str, str] | None = None) -> str:
    """Where a vendor fact may come from, for error messages."""
    return f"{env_name(platform, key)} or [{platform.value}] {key} in {config_path(environ)}"


def _file(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ContextError(f"{path}: not a valid TOML file: {exc}") from None
    problems = []
    for section, body in data.items():
        platform = next((p for p in Platform if p.value == section), None)
        if platform is None or not isinstance(body, dict):
            problems.append(f"[{section}]: not a cloud (aws, gcp, azure)")
            continue
        for key, value in body.items():
            if key not in VENDOR_KEYS[platform] or not isinstance(value, str):
                problems.append(f"[{section}] {key}: unknown key or not a string "
                                f"(known: {', '.join(VENDOR_KEYS[platform])})")
    if problems:
        raise ContextError(f"{path}: " + "; ".join(problems))
    return data


def vendor_facts(platform: Platform, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The vendor's facts for one cloud: environment first, then the config file."""
    environ = os.environ if environ is None else environ
    section = _file(config_path(environ)).get(platform.value, {})
    facts = {}
    for key in VENDOR_KEYS[platform]:
        value = environ.get(env_name(platform, key)) or section.get(key)
        if value:
            facts[key] = value
    return facts
