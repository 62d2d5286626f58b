"""The test suite's pytest plugin (pyproject's addopts: `-p bindery.pytest_plugin`): prepare the var folder
(bindery.local_files.prepare) before pytest-django loads the test settings, which read what it makes.

A conftest would come too late: pytest-django loads the settings while pytest loads the first conftests.
"""

from collections.abc import Generator

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args) -> Generator[None, None, None]:
    # A wrapper runs before every plain implementation of the hook, pytest-django's included.
    from bindery.local_files import prepare

    prepare()
    return (yield)
