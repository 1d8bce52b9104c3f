"""HTTP surface of the registry: the Confluent v1 API, the spine API and the error table."""

from registry.api.confluent import confluent_router
from registry.api.errors import ERROR_RULES, MEDIA_TYPE
from registry.api.spine import spine_router

__all__ = ["ERROR_RULES", "MEDIA_TYPE", "confluent_router", "spine_router"]
