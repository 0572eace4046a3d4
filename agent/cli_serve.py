"""``prodguardian serve``: the HTTP server with Slack (``/check_prod``, buttons) and health."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from prodguardian.config import load_config

DEFAULT_PORT = 8080


@click.command()
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="PRODGUARDIAN_CONFIG",
    default="prodguardian.yaml",
    show_default="$PRODGUARDIAN_CONFIG or ./prodguardian.yaml",
    help="Config file.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    envvar="PORT",
    default=DEFAULT_PORT,
    show_default="$PORT or 8080",
    help="Port to listen on (0: any free port, printed at start-up).",
)
@click.option(
    "--socket-mode",
    is_flag=True,
    help="Receive Slack events over Socket Mode (SLACK_APP_TOKEN) instead of HTTP.",
)
@click.option("--access-log", is_flag=True, help="Log every HTTP request.")
@click.option(
    "--header-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Close a connection that has not sent a request's complete headers within this "
    "time of connecting or of its previous answer (slow clients, slowloris).",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Open connections at once; one more is closed as soon as it is accepted.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="The least severe log entries written.",
)
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    help="json: one Cloud Logging entry per line on stdout, with trace ids; text: for a terminal.",
)
def serve(
    config_path: Path,
    host: str,
    port: int,
    socket_mode: bool,
    access_log: bool,
    header_timeout: float,
    max_connections: int,
    log_level: str,
    log_format: str,
) -> int:
    """Serve Slack, the OTLP receiver, metrics and health endpoints until stopped.

    \b
    POST /slack/events  /check_prod and its buttons (not with --socket-mode: Slack
                        events then come over a WebSocket the server opens)
    POST /v1/traces     OTLP/HTTP spans (protobuf or JSON, gzip) for trace_latency
                        and slo_burn
    GET  /metrics       Prometheus text: check durations and statuses, refusals
    GET  /healthz       alive;  GET /readyz: config loaded and Slack token accepted

    Secrets come from the environment only: SLACK_BOT_TOKEN, and SLACK_SIGNING_SECRET (HTTP)
    or SLACK_APP_TOKEN (Socket Mode); SLACK_API_URL overrides the Slack Web API base URL.
    OTEL_* variables export its own traces and metrics over OTLP.
    Also runs the background schedule, receives spans at /v1/traces and serves /metrics.
    Setting up the Slack app: docs/slack-app.md; on Cloud Run: docs/deploy-cloud-run.md.

    \b
    Examples:
      prodguardian serve -c prodguardian.yaml --host 0.0.0.0 --port 8080
      prodguardian serve -c prodguardian.yaml --socket-mode --log-format text
    """
    # Imported here so that `prodguardian check` does not pay for loading the server stack.
    from prodguardian.server.app import create_app
    from prodguardian.server.connection_guard import ConnectionLimits
    from prodguardian.server.run import ServerStartError, serve_forever
    from prodguardian.slack.errors import SlackSettingsError
    from prodguardian.slack.runtime import SlackRuntime
    from prodguardian.slack.settings import SlackSettings
    from prodguardian.telemetry.json_logging import install_json_logging
    from prodguardian.watch.service import WatchService, open_database, store_backed
    from prodguardian.watch.transports import SlackTransport

    loaded = load_config(config_path)
    if log_format == "json":
        install_json_logging(
            level=logging.getLevelNamesMapping()[log_level.upper()],
            project=loaded.config.service.project,
        )
    else:
        logging.basicConfig(
            level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    try:
        settings = SlackSettings.from_env(socket_mode=socket_mode)
    except SlackSettingsError as exc:
        raise click.UsageError(str(exc)) from exc
    database = open_database(loaded)
    channel = loaded.config.slack.alerts_channel
    stores = store_backed(database, config=loaded.config, channel=channel)
    runtime = SlackRuntime(loaded, settings, socket_mode=socket_mode, stores=stores)
    if not channel:
        logging.getLogger("prodguardian.watch").warning(
            "slack.alerts_channel is not set: incidents are tracked but not posted"
        )
    watch = WatchService(
        loaded,
        database,
        transport=SlackTransport(runtime.notifier) if channel else None,
        channel=channel,
        stores=stores,
        runs=runtime.runs,
        schedule=loaded.config.monitoring.enabled,
    )
    app = create_app(runtime, watch=watch)

    def listening(url: str) -> None:
        events = " (Slack over Socket Mode)" if socket_mode else f", Slack at {url}/slack/events"
        click.echo(f"prodguardian: listening on {url}{events}", err=True)

    async def run() -> None:
        await runtime.preflight()
        await serve_forever(
            app,
            host=host,
            port=port,
            access_log=access_log,
            on_listening=listening,
            limits=ConnectionLimits(
                header_timeout_s=header_timeout, max_connections=max_connections
            ),
        )

    try:
        asyncio.run(run())
    except (SlackSettingsError, ServerStartError) as exc:
        raise click.ClickException(str(exc)) from exc
    return 0
