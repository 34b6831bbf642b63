from collections.abc import Iterator

import pytest
from tests.unit.compliance.compliance_setup import Setup, build


@pytest.fixture
def setup() -> Iterator[Setup]:
    s = build()
    yield s
    s.router.close()
    s.compliance.close()
