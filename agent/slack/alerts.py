"""Channel alerts: one message per incident, updated in place, with its story in the thread.

When an incident opens, its alert is posted to ``slack.alerts_channel``; each later report
updates that message in place (``chat.update``) and, when the status changes, says so in the
thread; when the check is OK again the message says resolved and the thread gets the
resolution. A silenced check or incident gets no new alert. The scheduler (a later part of
ProdGuardian) calls :meth:`AlertPublisher.publish` after each background run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime

from prodguardian.report import Report, summarize
from prodguardian.slack.blocks import MessageBuilder, SlackMessage
from prodguardian.slack.errors import SlackDeliveryError
from prodguardian.slack.escaping import escape_text
from prodguardian.slack.notifier import PostedMessage, SlackNotifier
from prodguardian.slack.render_report import STATUS_EMOJI, ReportView, render_report
from prodguardian.slack.stores import Incident, Silence
from prodguardian.status import Status, overall_status

log = logging.getLogger("prodguardian.slack.alerts")


@dataclass
class _Alert:
    incident: Incident
    posted: PostedMessage


def render_alert(incident: Incident, report: Report) -> SlackMessage:
    """The alert of one incident: the report of its check, titled with the incident."""
    runs = tuple(r for r in report.checks if r.name == incident.check) or report.checks
    unverified = tuple(r.name for r in runs if r.status is Status.UNKNOWN)
    scoped = report.model_copy(
        update={
            "checks": runs,
            "status": overall_status(r.status for r in runs),
            "summary": summarize(runs, unverified),
            "unverified": unverified,
        }
    )
    title = f"{incident.id} · {incident.check}"
    if incident.resolved_at is not None:
        title += " · resolved"
    view = ReportView(incidents=[incident], title=title, recheck=(incident.check,))
    return render_report(scoped, view)


def _note(text: str) -> SlackMessage:
    out = MessageBuilder()
    out.section(text)
    return out.build(text)


class AlertPublisher:
    """Keeps one alert message per incident in the alerts channel (in memory, per process)."""

    def __init__(self, notifier: SlackNotifier, channel: str) -> None:
        self.notifier = notifier
        self.channel = channel
        self._alerts: dict[str, _Alert] = {}

    async def publish(
        self,
        report: Report,
        incidents: Sequence[Incident],
        *,
        silences: Sequence[Silence] = (),
        now: datetime,
    ) -> None:
        """Post, update or resolve the alerts for ``report``'s open ``incidents``.

        A delivery failure is logged (with what to fix) and does not stop the other alerts.
        """
        silenced = {s.target for s in silences if s.until > now}
        open_ids = {i.id for i in incidents}
        for incident in incidents:
            if incident.check in silenced or incident.id in silenced:
                log.info("alert for %s (%s) is silenced", incident.id, incident.check)
                continue
            await self._guarded(self._open_or_update(incident, report))
        checked = {r.name for r in report.checks if r.status is Status.OK}
        for alert in list(self._alerts.values()):
            if alert.incident.id not in open_ids and alert.incident.check in checked:
                resolved = alert.incident.model_copy(
                    update={"status": Status.OK, "resolved_at": report.finished_at}
                )
                await self._guarded(self._resolve(alert, resolved, report))

    async def _open_or_update(self, incident: Incident, report: Report) -> None:
        message = render_alert(incident, report)
        alert = self._alerts.get(incident.id)
        if alert is None:
            posted = await self.notifier.post(self.channel, message)
            self._alerts[incident.id] = _Alert(incident, posted)
            return
        await self.notifier.update(alert.posted, message)
        if incident.status is not alert.incident.status:
            change = (
                f"{STATUS_EMOJI[alert.incident.status]} {alert.incident.status.value} → "
                f"{STATUS_EMOJI[incident.status]} {incident.status.value}: "
                f"{escape_text(_summary(report, incident.check))}"
            )
            await self.notifier.reply(alert.posted, _note(change))
        alert.incident = incident

    async def _resolve(self, alert: _Alert, resolved: Incident, report: Report) -> None:
        await self.notifier.update(alert.posted, render_alert(resolved, report))
        lasted = report.finished_at - alert.incident.opened_at
        minutes = max(int(lasted.total_seconds() // 60), 0)
        await self.notifier.reply(
            alert.posted,
            _note(
                f"✅ *{resolved.id}* resolved: {escape_text(resolved.check)} is OK again "
                f"after {minutes} min."
            ),
        )
        del self._alerts[resolved.id]

    @staticmethod
    async def _guarded(step: Awaitable[None]) -> None:
        try:
            await step
        except SlackDeliveryError:
            # Already logged with what to fix; the next report tries again.
            return


def _summary(report: Report, check: str) -> str:
    for run in report.checks:
        if run.name == check:
            return run.result.summary
    return report.summary
