"""The command service without Bolt: runs that fail, user groups that cannot be read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from prodguardian.config import load_config
from prodguardian.config.loader import LoadedConfig
from prodguardian.context import HttpClient
from prodguardian.errors import CheckError
from prodguardian.report import Report
from prodguardian.slack.memory_stores import memory_stores
from prodguardian.slack.notifier import make_web_client
from prodguardian.slack.response_url import ResponseUrlPoster
from prodguardian.slack.runs import BackgroundJobs, Engine, ReportRuns
from prodguardian.slack.service import Invocation, SlackCommands
from prodguardian.slack.settings import SlackSettings
from prodguardian.slack.user_groups import UserGroupDirectory
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import BOT_TOKEN, SlackStandIn


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedConfig:
    path = tmp_path / "c.yaml"
    path.write_text(
        "slack: {allowed_user_groups: [S0ONCALL]}\n"
        "checks:\n  - {name: api, kind: http, url: 'http://127.0.0.1:9/'}\n"
    )
    return load_config(path)


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient()
    yield client
    await client.close()


def commands(
    loaded: LoadedConfig, engine: Engine, http: HttpClient, directory: UserGroupDirectory | None
) -> SlackCommands:
    stores = memory_stores()
    return SlackCommands(
        loaded=loaded,
        stores=stores,
        runs=ReportRuns(loaded, stores.deploys, engine=engine),
        poster=ResponseUrlPoster(http.session, backoff_base_s=0.01),
        jobs=BackgroundJobs(),
        directory=directory,
    )


async def crashing_engine(*args: Any, **kwargs: Any) -> Report:
    raise ZeroDivisionError("a bug in a plugin")


async def refusing_engine(*args: Any, **kwargs: Any) -> Report:
    raise CheckError("log source refused the credentials")


@pytest.mark.parametrize(
    ("engine", "said"),
    [
        (crashing_engine, "ProdGuardian crashed running the checks: `ZeroDivisionError: a bug"),
        (refusing_engine, "The checks could not run: `log source refused the credentials`"),
    ],
)
async def test_a_failed_run_is_told_to_the_user(
    loaded: LoadedConfig, http: HttpClient, sink: ResponseUrlSink, engine: Engine, said: str
) -> None:
    service = commands(loaded, engine, http, None)
    reply = await service.command(Invocation("U1", "C1", "", sink.url_for("x")))
    assert "Checking all 1 checks" in reply.message.blocks[0]["text"]["text"]
    [delivery] = await sink.wait_for("x")
    assert said in delivery.all_text
    await service.jobs.aclose()


async def test_unreadable_user_group_counts_as_empty(
    loaded: LoadedConfig, http: HttpClient, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    settings = SlackSettings(bot_token=BOT_TOKEN, signing_secret="s", api_url=standin.url)
    directory = UserGroupDirectory(make_web_client(settings))
    service = commands(loaded, crashing_engine, http, directory)
    reply = await service.command(Invocation("U1", "C1", "deploy r1", sink.url_for("x")))
    assert (
        "Sorry, you may not mark deploys here (`deploy`)" in reply.message.blocks[0]["text"]["text"]
    )
    assert [c.answer for c in standin.calls_to("usergroups.users.list")] == [
        {"ok": False, "error": "no_such_subteam"}
    ]
    standin.user_groups["S0ONCALL"] = ["U1"]
    directory.ttl_s = 0
    reply = await service.command(Invocation("U1", "C1", "deploy r1", sink.url_for("x")))
    assert "Deploy `r1` marked" in reply.message.blocks[0]["text"]["text"]
