from __future__ import annotations

import pytest

from tests.engine.fixtures import engine, management

__all__ = ["engine", "management"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/engine/" in str(item.fspath):
            item.add_marker(pytest.mark.engine)
