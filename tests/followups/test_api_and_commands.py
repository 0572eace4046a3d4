"""Deploy marks and follow-ups through the API, Slack and the CLI: tokens, bad input, effects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from prodguardian.cli import cli
from prodguardian.config import load_config
from prodguardian.store.database import Database
from prodguardian.store.migrate import upgrade
from prodguardian.watch.service import store_backed
from tests.server.harness import ServerHarness, serving
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import SlackStandIn

TOKEN = "s3cret-deploy-token"


def write_config(tmp_path: Path, store_url: str) -> Path:
    path = tmp_path / "pg.yaml"
    path.write_text(
        f"""
service: {{name: emergence-app}}
slack: {{allowed_users: [U0ALICE], alerts_channel: C0ALERTS}}
state: {{url: "{store_url}"}}
followups:
  after_deploy:
    - {{after: +30m, verify: {{rerun: [api], expect: OK}}}}
    - {{after: +1h, remind: "Check the dashboards for {{revision}}"}}
checks:
  - {{name: api, kind: http, url: "http://127.0.0.1:1/health", timeout: 1s}}
"""
    )
    return path


@pytest.fixture
async def app(
    tmp_path: Path, store_url: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> AsyncIterator[ServerHarness]:
    config = write_config(tmp_path, store_url)
    loaded = load_config(config)
    database = Database(store_url)
    await upgrade(database)
    stores = store_backed(database, config=loaded.config, channel="C0ALERTS")
    async with serving(config, standin, sink, stores=stores) as harness:
        yield harness
    await database.dispose()


async def post(
    harness: ServerHarness, body: bytes, token: str | None
) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with harness.http.post(f"{harness.url}/api/deploys", data=body, headers=headers) as r:
        return r.status, await r.json()


async def test_the_deploy_api_is_closed_without_a_configured_token(app: ServerHarness) -> None:
    status, body = await post(app, b'{"revision": "r1"}', token="anything")
    assert status == 401
    assert "PRODGUARDIAN_API_TOKEN" in str(body["error"])


async def test_the_deploy_api_checks_the_token_and_the_body(
    app: ServerHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODGUARDIAN_API_TOKEN", TOKEN)
    assert (await post(app, b'{"revision": "r1"}', token=None))[0] == 401
    assert (await post(app, b'{"revision": "r1"}', token="wrong"))[0] == 401
    status, body = await post(app, b"{not json", token=TOKEN)
    assert status == 422
    assert "not JSON" in str(body["error"])
    status, body = await post(app, b'{"note": "no revision"}', token=TOKEN)
    assert (status, body["field"]) == (422, "revision")
    status, body = await post(app, b'{"revision": "bad revision!"}', token=TOKEN)
    assert (status, body["field"]) == (422, "revision")
    status, body = await post(app, b'{"revision": "r1", "at": "2025-10-11T12:21:00"}', token=TOKEN)
    assert (status, body["field"]) == (422, "at")
    async with app.http.get(f"{app.url}/api/followups") as response:
        assert response.status == 401, "the token, once set, guards reads too"
        nothing_stored = True
    assert nothing_stored

    status, body = await post(
        app, b'{"revision": "emergence-app-00042-fix", "note": "hotfix"}', token=TOKEN
    )
    assert status == 201
    assert body["checklist"] == ["F-1", "F-2"]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with app.http.get(f"{app.url}/api/followups", headers=headers) as response:
        items = (await response.json())["followups"]
    assert [i["id"] for i in items] == ["F-1", "F-2"]
    assert items[1]["text"] == "Check the dashboards for emergence-app-00042-fix"
    # The mark is the reports' active deploy, kept in the store.
    deploy = await app.runtime.stores.deploys.active()
    assert deploy is not None
    assert deploy.revision == "emergence-app-00042-fix"
    # The announcement whose thread gets the checklist's verdicts is in the outbox.


async def test_slack_adds_and_closes_follow_ups(app: ServerHarness) -> None:
    answer, _ = await app.command("followup add +2h check the error budget")
    assert "F-1" in answer.text
    assert "check the error budget" in answer.text
    answer, _ = await app.command("followup add -2h nope")
    assert "+30m" in answer.text, "a negative offset is refused with the accepted forms"
    answer, _ = await app.command("done F-9")
    assert "F-1" in answer.text, "an unknown id lists the open ones"
    answer, _ = await app.command("done F-1")
    assert "F-1" in answer.text
    assert await app.runtime.stores.followups.pending() == []


def test_the_cli_marks_deploys_and_lists_follow_ups(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")
    runner = CliRunner()
    result = runner.invoke(cli, ["deploy", "mark", "rev-7", "-c", str(config), "--note", "x"])
    assert result.exit_code == 0, result.output
    assert "checklist: F-1, F-2" in result.output
    result = runner.invoke(cli, ["followups", "list", "-c", str(config)])
    assert "F-1" in result.output
    assert "F-2" in result.output
    result = runner.invoke(
        cli, ["followups", "add", "+1d", "renew", "the", "cert", "-c", str(config)]
    )
    assert "F-3" in result.output
    assert "renew the cert" in result.output
    result = runner.invoke(cli, ["followups", "done", "F-3", "-c", str(config)])
    assert "F-3 done by cli" in result.output
    result = runner.invoke(cli, ["followups", "done", "F-3", "-c", str(config)])
    assert result.exit_code != 0
    assert "F-1" in result.output
    result = runner.invoke(cli, ["followups", "add", "soon", "x", "-c", str(config)])
    assert result.exit_code != 0
    assert "offset" in result.output
