"""The ProdGuardian server: FastAPI app factory, health endpoints, Slack, uvicorn start-up."""

from prodguardian.server.app import SLACK_EVENTS_PATH, create_app
from prodguardian.server.run import bind_socket, running_server, serve_forever

__all__ = ["SLACK_EVENTS_PATH", "bind_socket", "create_app", "running_server", "serve_forever"]
