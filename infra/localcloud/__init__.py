"""The local cloud: template.yaml deployed into an embedded moto (see ``cloud.LocalCloud``)."""

from infra.localcloud.api import ApiRequest, ApiResponse
from infra.localcloud.cfn import UnsupportedLocally
from infra.localcloud.cloud import LocalCloud, env_for
from infra.localcloud.patches.scheduler_clock import Firing, LocalClock
from infra.localcloud.verify import CONSCIOUSLY_UNCREATED, DeployVerificationError

__all__ = [
    "CONSCIOUSLY_UNCREATED",
    "ApiRequest",
    "ApiResponse",
    "DeployVerificationError",
    "Firing",
    "LocalClock",
    "LocalCloud",
    "UnsupportedLocally",
    "env_for",
]
