"""Channel alerts against the Slack stand-in: post, update in place, thread, resolve, silence."""

from __future__ import annotations

from datetime import timedelta

from prodguardian.slack.alerts import AlertPublisher, render_alert
from prodguardian.slack.memory_stores import MemoryIncidents
from prodguardian.slack.notifier import SlackNotifier, make_web_client
from prodguardian.slack.render_report import ACTION_ACK
from prodguardian.slack.retry import BoundedRetryHandler
from prodguardian.slack.settings import SlackSettings
from prodguardian.slack.stores import Silence
from prodguardian.status import Status
from tests.slack.reports import T0, report, run
from tests.support.slack_standin import BOT_TOKEN, Fault, SlackStandIn

CHANNEL = "C0ALERTS"


def publisher(standin: SlackStandIn) -> AlertPublisher:
    settings = SlackSettings(bot_token=BOT_TOKEN, signing_secret="s", api_url=standin.url)
    retry = BoundedRetryHandler(max_retries=1, backoff_base_s=0.01)
    return AlertPublisher(SlackNotifier(make_web_client(settings, retry=retry)), CHANNEL)


async def test_one_message_per_incident_updated_in_place_then_resolved(
    standin: SlackStandIn,
) -> None:
    alerts, incidents = publisher(standin), MemoryIncidents()
    reports = [
        report(run("api", Status.DEGRADED, "slow"), run("db")),
        report(run("api", Status.DEGRADED, "still slow"), run("db")),
        report(run("api", Status.CRITICAL, "down <!channel>"), run("db")),
        report(run("api"), run("db")),
    ]
    for index, rep in enumerate(reports):
        rep = rep.model_copy(update={"finished_at": T0 + timedelta(minutes=10 * index)})
        await alerts.publish(rep, await incidents.observe(rep), now=T0)

    assert [c.method for c in standin.calls] == [
        "chat.postMessage",  # opened
        "chat.update",  # same status: updated in place, no thread noise
        "chat.update",  # worse: updated …
        "chat.postMessage",  # … and told in the thread
        "chat.update",  # resolved in place …
        "chat.postMessage",  # … and in the thread
    ]
    [alert] = [m for m in standin.channel_messages(CHANNEL) if m.thread_ts is None]
    assert alert.edits == 3
    assert alert.blocks[0]["text"]["text"] == "🟢 OK — INC-1 · api · resolved"
    thread = [m.text for m in standin.channel_messages(CHANNEL) if m.thread_ts == alert.ts]
    assert thread[0].startswith("🟡 DEGRADED → 🔴 CRITICAL: down &lt;!channel&gt;")
    assert thread[1] == "✅ *INC-1* resolved: api is OK again after 30 min."


async def test_alert_carries_acknowledge_and_recheck_for_its_check() -> None:
    rep = report(run("api", Status.DEGRADED, "slow"), run("db", Status.CRITICAL))
    [api, _] = await MemoryIncidents().observe(rep)
    message = render_alert(api, rep)
    assert message.blocks[0]["text"]["text"] == "🟡 DEGRADED — INC-1 · api"
    assert message.text == "🟡 DEGRADED — shop: 0/1 checks OK; failing: api (DEGRADED)"
    buttons = message.blocks[-1]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons][1] == (ACTION_ACK, "INC-1")
    assert buttons[0]["value"] == "api"
    assert "*db*" not in str(message.blocks)


async def test_silenced_checks_get_no_alert(standin: SlackStandIn) -> None:
    alerts, incidents = publisher(standin), MemoryIncidents()
    rep = report(run("api", Status.CRITICAL))
    silence = Silence(target="api", until=T0 + timedelta(hours=1), by="U1", created_at=T0)
    await alerts.publish(rep, await incidents.observe(rep), silences=[silence], now=T0)
    assert standin.calls == []
    await alerts.publish(
        rep, await incidents.observe(rep), silences=[silence], now=T0 + timedelta(hours=2)
    )
    assert [c.method for c in standin.calls] == ["chat.postMessage"]


async def test_a_failed_delivery_is_retried_by_the_next_report(standin: SlackStandIn) -> None:
    alerts, incidents = publisher(standin), MemoryIncidents()
    standin.joined_channels = set()
    rep = report(run("api", Status.CRITICAL))
    await alerts.publish(rep, await incidents.observe(rep), now=T0)
    assert standin.messages == {}
    standin.joined_channels = None
    standin.fail_next("chat.postMessage", Fault("server_error"))
    await alerts.publish(rep, await incidents.observe(rep), now=T0)
    assert len(standin.channel_messages(CHANNEL)) == 1
