"""The rtt service: REST, WebSocket, SSE and gRPC over the rtt pipeline (see docs/api.md)."""
