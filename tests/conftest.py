"""Fixtures shared by several test modules."""

import pytest

from azlang.search import interrupt


@pytest.fixture
def clean_interrupt_flag():
    """The process-wide stop flag starts and ends each test cleared (tests that interrupt runs set it)."""
    interrupt.FLAG.reset()
    yield
    interrupt.FLAG.reset()
