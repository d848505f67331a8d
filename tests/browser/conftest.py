from tests.integration.conftest import api, ops_headers, stack  # noqa: F401  (session fixtures shared with the scenarios)
