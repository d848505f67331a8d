"""The local cloud: template.yaml deployed into an embedded moto (see ``cloud.LocalCloud``)."""

from infra.localcloud.api import ApiRequest, ApiResponse
from infra.localcloud.cloud import LocalCloud, env_for
from infra.localcloud.verify import CONSCIOUSLY_UNCREATED, DeployVerificationError

__all__ = [
    "CONSCIOUSLY_UNCREATED",
    "ApiRequest",
    "ApiResponse",
    "DeployVerificationError",
    "LocalCloud",
    "env_for",
]
