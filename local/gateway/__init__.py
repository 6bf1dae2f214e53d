"""API Gateway (REST v1, Lambda proxy) emulator driven by a SAM template, no Docker.

Embedding: `from local.gateway.server import start_in_thread`.
"""

from .server import Gateway, GatewayConfig, GatewayHandle, start_in_thread

__all__ = ["Gateway", "GatewayConfig", "GatewayHandle", "start_in_thread"]
