from tests.integration.conftest import api, mint, ops_headers, served, stack  # noqa: F401  (shared fixtures)
