"""The backend conformance kit: one test class per protocol that every backend subclasses and passes.

Subclass, provide a ``backend`` fixture, and pytest collects the whole contract::

    import pytest
    from vectorrouter.backends import NumpyBackend, IndexSpec
    from vectorrouter.testing import VectorBackendConformance

    class TestNumpy(VectorBackendConformance):
        @pytest.fixture
        def backend(self):
            b = NumpyBackend(IndexSpec.for_dimension(self.dimension))
            yield b
            b.close()

Set ``unsupported_filters`` to the operator names (``"ne"``, ``"range"``, …) your backend refuses: the kit
then checks that each raises :class:`~vectorrouter.errors.UnsupportedFilter` instead of being dropped.
Override ``reopen`` to prove persistence. The kit needs pytest (a test dependency, not a runtime one).
"""

from vectorrouter.testing.conformance import (
    FILTER_CASES,
    KeywordBackendConformance,
    VectorBackendConformance,
    conformance_records,
)

__all__ = [
    "FILTER_CASES",
    "KeywordBackendConformance",
    "VectorBackendConformance",
    "conformance_records",
]
