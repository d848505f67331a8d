"""A local fake of the Buildium Open API (see server.FakeBuildium) for adapter and webhook tests and manual runs."""

from infra.fake_buildium.seed import SERVICE_AREA_POSTAL_CODES
from infra.fake_buildium.server import FakeBuildium, compact_json, event_datetime

__all__ = ["SERVICE_AREA_POSTAL_CODES", "FakeBuildium", "compact_json", "event_datetime"]
