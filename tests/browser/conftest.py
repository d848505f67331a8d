from tests.integration.conftest import api, ops_headers, served, stack  # noqa: F401  (shared fixtures)
