"""The ``prodguardian`` command line.

Exit codes follow the Nagios plugin convention: 0 OK, 1 DEGRADED, 2 CRITICAL, 3 UNKNOWN or a
usage/config error.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console

from prodguardian import __version__
from prodguardian.cli_demo import demo
from prodguardian.cli_followups import deploy, followups
from prodguardian.cli_runbooks import runbooks
from prodguardian.cli_serve import serve
from prodguardian.cli_status import status
from prodguardian.cli_time import parse_time_option
from prodguardian.cli_watch import db, incidents, watch
from prodguardian.config import load_config
from prodguardian.config.reference import reference_markdown
from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.engine import run_report
from prodguardian.errors import ConfigError, RegistryError
from prodguardian.render import render_json, render_terminal
from prodguardian.result import CheckRun
from prodguardian.runbooks import library_for_config

EXIT_USAGE = 3
DEFAULT_CONFIG = "prodguardian.yaml"

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=lambda: os.environ.get("PRODGUARDIAN_CONFIG", DEFAULT_CONFIG),
    show_default="$PRODGUARDIAN_CONFIG or ./prodguardian.yaml",
    help="Config file.",
)


@click.group()
@click.version_option(__version__, prog_name="prodguardian")
def cli() -> None:
    """ProdGuardian: checks a production service and says OK, DEGRADED or CRITICAL.

    Every command takes the config with -c FILE (default: $PRODGUARDIAN_CONFIG, then
    ./prodguardian.yaml); `prodguardian COMMAND --help` shows its options and an example.
    Configuration reference: docs/configuration.md.

    \b
    Examples:
      prodguardian config validate -c prodguardian.yaml
      prodguardian check -c prodguardian.yaml
      prodguardian serve -c prodguardian.yaml --host 0.0.0.0
    """


@cli.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option("--only", multiple=True, metavar="NAME", help="Run only this check (repeatable).")
@click.option(
    "--since-deploy",
    metavar="TIME",
    callback=parse_time_option,
    help="When the active deploy went out (ISO 8601, e.g. 2025-10-11T12:21:00Z; UTC if no "
    "offset): log checks judge the errors since then.",
)
@click.option("--revision", metavar="NAME", help="The active revision (Cloud Run revision name).")
@click.option(
    "--at",
    metavar="TIME",
    callback=parse_time_option,
    help="Judge the log and trace windows that ended at TIME (ISO 8601, e.g. "
    "2025-10-11T12:21:00Z) instead of now: a post-incident review. HTTP probes still probe now.",
)
def check(
    config_path: Path,
    as_json: bool,
    only: tuple[str, ...],
    since_deploy: datetime | None,
    revision: str | None,
    at: datetime | None,
) -> int:
    """Run the checks once and print the report.

    Probes the HTTP checks now; log checks read their window of logs (ending now, or at --at),
    trace checks their window of spans. Exit code: 0 OK, 1 DEGRADED, 2 CRITICAL, 3 UNKNOWN or
    config error.

    \b
    Examples:
      prodguardian check -c prodguardian.yaml
      prodguardian check -c prodguardian.yaml --only api-health --json
      prodguardian check -c prodguardian.yaml --revision my-service-00042-abc
    """
    deploy = None
    if since_deploy is not None or revision:
        deploy = ActiveDeploy(
            revision=revision or None, since=since_deploy, source=DeploySource.COMMAND_LINE
        )
    loaded = load_config(config_path)
    checks = loaded.select(list(only))
    stderr = Console(stderr=True)
    finished = 0

    with stderr.status(f"Running {len(checks)} checks…") as spinner:

        def on_done(run: CheckRun) -> None:
            nonlocal finished
            finished += 1
            spinner.update(f"Running checks… {finished}/{len(checks)} done ({run.name})")

        report = asyncio.run(run_report(loaded, checks, deploy=deploy, on_done=on_done, at=at))

    if as_json:
        click.echo(render_json(report))
    else:
        Console().print(render_terminal(report))
    return report.exit_code


@cli.group("config")
def config_group() -> None:
    """Work with config files: validate one, print the reference of every key.

    \b
    Examples:
      prodguardian config validate -c prodguardian.yaml
      prodguardian config reference | less
    """


@config_group.command("validate")
@config_option
def config_validate(config_path: Path) -> int:
    """Check a config file and the runbooks it uses without running anything; exit 3 if invalid.

    Every problem of the file is named at once, each with its key path and what to fix.

    \b
    Example:
      prodguardian config validate -c prodguardian.yaml
    """
    from prodguardian.watch.service import describe_state

    loaded = load_config(config_path)
    library = library_for_config(loaded)
    state = describe_state(loaded)  # a state.url that cannot be opened is a config error
    names = ", ".join(c.name for c in loaded.checks)
    click.echo(
        f"{config_path}: valid, {len(loaded.checks)} checks ({names}), "
        f"{len(library.runbooks)} runbooks, state in {state}"
    )
    return 0


@config_group.command("reference")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the reference to this file instead of stdout.",
)
@click.option(
    "--with-plugins",
    is_flag=True,
    help="Also document the installed third-party check kinds and sources.",
)
def config_reference(output: Path | None, with_plugins: bool) -> int:
    """Print the configuration reference (docs/configuration.md), generated from the models.

    \b
    Examples:
      prodguardian config reference -o docs/configuration.md   # what `make docs` runs
      prodguardian config reference --with-plugins | less      # with your plugins' keys too
    """
    text = reference_markdown(include_plugins=with_plugins)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    return 0


cli.add_command(serve)
cli.add_command(runbooks)
cli.add_command(watch)
cli.add_command(incidents)
cli.add_command(db)
cli.add_command(followups)
cli.add_command(deploy)
cli.add_command(status)
cli.add_command(demo)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    try:
        result = cli.main(args=argv, prog_name="prodguardian", standalone_mode=False)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_USAGE)
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except RegistryError as exc:
        click.echo(f"plugin error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
