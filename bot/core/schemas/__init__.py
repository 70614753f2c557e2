"""Schema validation of Kubernetes objects: built-in kinds, CRDs, deprecated and removed API versions."""

from bot.core.schemas.apicheck import API_SERVER_RULES
from bot.core.schemas.messages import SCHEMA_RULES
from bot.core.schemas.registry import supported_kubernetes_versions
from bot.core.schemas.validate import DEFAULT_KUBERNETES_VERSION, SchemaValidator

__all__ = [
    "API_SERVER_RULES",
    "DEFAULT_KUBERNETES_VERSION", "SCHEMA_RULES", "SchemaValidator", "supported_kubernetes_versions"]
