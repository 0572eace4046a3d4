"""What ``/check_prod`` and the buttons do: parse, authorise, answer, run in the background.

Every entry point answers within the ack (nothing slow before it); runs happen in background jobs
that post the report to the ``response_url``. Slack code never runs checks itself: it asks
the engine through :class:`~prodguardian.slack.runs.ReportRuns`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prodguardian.config.loader import LoadedConfig
from prodguardian.config.models import SlackConfig
from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.errors import ProdGuardianError
from prodguardian.report import Report
from prodguardian.slack import render_messages as messages
from prodguardian.slack.authorisation import (
    Action,
    Actor,
    Decision,
    authorise,
    needs_group_lookup,
)
from prodguardian.slack.blocks import SlackMessage
from prodguardian.slack.commands import (
    Acknowledge,
    AddFollowUp,
    Command,
    ListFollowUps,
    MarkDeploy,
    MarkDone,
    RunChecks,
    ShowHelp,
    ShowStatus,
    SilenceTarget,
    parse_command,
)
from prodguardian.slack.render_report import ReportView, render_report
from prodguardian.slack.response_url import ResponseType, ResponseUrlPoster, encode_response
from prodguardian.slack.runs import BackgroundJobs, ReportRuns
from prodguardian.slack.stores import Stores, UnknownItemError
from prodguardian.slack.user_groups import Membership, UserGroupDirectory

log = logging.getLogger("prodguardian.slack.service")

Clock = Callable[[], datetime]

#: Seconds a command waits for the user-group lookup before it answers without it.
GROUP_LOOKUP_DEADLINE_S = 1.5

#: Encoded reports kept for commands that joined the same run.
_ENCODED_KEPT = 16


@dataclass(frozen=True)
class Invocation:
    """Who asked for what, and where to answer: from a slash command or a button."""

    user_id: str
    channel_id: str | None
    text: str
    response_url: str | None


@dataclass(frozen=True)
class Reply:
    """The immediate answer (sent with the ack)."""

    message: SlackMessage
    response_type: ResponseType = "ephemeral"


class SlackCommands:
    """The command and button logic, independent of Bolt (tests call it directly too)."""

    def __init__(
        self,
        *,
        loaded: LoadedConfig,
        stores: Stores,
        runs: ReportRuns,
        poster: ResponseUrlPoster,
        jobs: BackgroundJobs,
        directory: UserGroupDirectory | None = None,
        clock: Clock = lambda: datetime.now(UTC),
        slack_problem: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.loaded = loaded
        self.stores = stores
        self.runs = runs
        self.poster = poster
        self.jobs = jobs
        self.directory = directory
        self.clock = clock
        self.slack_problem = slack_problem
        self._encoded: OrderedDict[
            tuple[int, tuple[str, ...]], tuple[Report, asyncio.Future[bytes]]
        ] = OrderedDict()

    @property
    def policy(self) -> SlackConfig:
        return self.loaded.config.slack

    @property
    def check_names(self) -> list[str]:
        return [c.name for c in self.loaded.checks]

    # --- the slash command -------------------------------------------------------------

    async def command(self, inv: Invocation) -> Reply:
        """Answer ``/check_prod <text>``; a run continues in a background job."""
        command = parse_command(inv.text, check_names=self.check_names)
        log.info(
            "command from user=%s channel=%s: %s",
            inv.user_id,
            inv.channel_id or "-",
            type(command).__name__,
            extra={"slack_user_id": inv.user_id},
        )
        return await self._dispatch(command, inv)

    async def _dispatch(self, command: Command, inv: Invocation) -> Reply:
        shared = self.policy.response_type
        if isinstance(command, ShowHelp):
            return Reply(messages.help_message(command.problem, checks=self.check_names))
        if isinstance(command, RunChecks):
            return self._start_run(command.names, inv)
        if isinstance(command, ShowStatus):
            return Reply(await self._status(), shared)
        if isinstance(command, ListFollowUps):
            return Reply(messages.followups_message(await self.stores.followups.pending()))
        decision = await self._authorise(inv, _action_of(command))
        if not decision.allowed:
            return Reply(messages.refusal_message(_action_of(command), decision.reason))
        if isinstance(command, MarkDeploy):
            return Reply(await self._deploy(command, inv), shared)
        if isinstance(command, MarkDone):
            return await self._done(command.followup_id, inv)
        if isinstance(command, AddFollowUp):
            now = self.clock()
            item = await self.stores.followups.remind(
                command.text,
                due_at=now + timedelta(seconds=command.after_s),
                by=inv.user_id,
                at=now,
            )
            return Reply(messages.followup_added_message(item, by=inv.user_id), shared)
        if isinstance(command, Acknowledge):
            return await self._ack(command.incident_id, inv)
        return await self._silence(command, inv)

    def _start_run(self, names: tuple[str, ...], inv: Invocation) -> Reply:
        if inv.response_url is None:
            return Reply(messages.failure_message("cannot answer", "no response_url was sent"))
        self.jobs.spawn(self._run_and_post(names, inv.response_url), name="check_prod")
        return Reply(
            messages.running_message(
                names, total=len(self.loaded.checks), slack_problem=self.slack_problem()
            )
        )

    async def _run_and_post(self, names: tuple[str, ...], response_url: str) -> None:
        try:
            report = await self.runs.run(names)
            body = await self._encoded_report(report, names)
        except ProdGuardianError as exc:
            log.error("the run for /check_prod failed: %s", exc)
            failure = messages.failure_message("The checks could not run", str(exc))
            body = encode_response(failure, self.policy.response_type)
        except Exception as exc:
            # The boundary of a background job: the user must hear about it, not just the log.
            log.exception("the run for /check_prod crashed")
            failure = messages.failure_message(
                "ProdGuardian crashed running the checks", f"{type(exc).__name__}: {exc}"
            )
            body = encode_response(failure, self.policy.response_type)
        await self.poster.post_encoded(response_url, body)

    async def _encoded_report(self, report: Report, names: tuple[str, ...]) -> bytes:
        """The report's response body, made once for every command that joined its run."""
        key = (id(report), names)
        entry = self._encoded.get(key)
        if entry is None or entry[0] is not report:
            future = asyncio.ensure_future(self._encode_report(report, names))
            entry = self._encoded[key] = (report, future)
            while len(self._encoded) > _ENCODED_KEPT:
                self._encoded.popitem(last=False)
        return await asyncio.shield(entry[1])

    async def _encode_report(self, report: Report, names: tuple[str, ...]) -> bytes:
        message = await self._report_message(report, recheck=names)
        return encode_response(message, self.policy.response_type)

    async def _report_message(self, report: Report, *, recheck: tuple[str, ...]) -> SlackMessage:
        if not recheck:
            await self.stores.history.record(report)
        incidents = await self.stores.incidents.observe(report)
        followups = await self.stores.followups.pending()
        view = ReportView(incidents=incidents, followups=followups, recheck=recheck)
        return render_report(report, view)

    async def _status(self) -> SlackMessage:
        report = await self.stores.history.last()
        if report is None:
            return messages.no_report_message()
        age = self.clock() - report.finished_at
        title = f"{report.service} · last known report ({_age(age)} ago)"
        view = ReportView(
            incidents=await self.stores.incidents.open(),
            followups=await self.stores.followups.pending(),
            title=title,
        )
        return render_report(report, view)

    async def _deploy(self, command: MarkDeploy, inv: Invocation) -> SlackMessage:
        deploy = ActiveDeploy(
            revision=command.revision,
            since=self.clock(),
            source=DeploySource.DEPLOY_MARK,
            note=command.note,
        )
        recorded = await self.stores.deploys.record(deploy, by=inv.user_id)
        return messages.deploy_message(recorded, by=inv.user_id)

    # A user's mistake (an unknown id or target) is answered to that user alone (ephemeral);
    # what changed for everyone goes where the policy says.

    async def _done(self, followup_id: str, inv: Invocation) -> Reply:
        try:
            item = await self.stores.followups.done(followup_id, by=inv.user_id, at=self.clock())
        except UnknownItemError as exc:
            return Reply(messages.unknown_item_message("follow-up", followup_id, exc.known))
        return Reply(messages.done_message(item, by=inv.user_id), self.policy.response_type)

    async def _ack(self, incident_id: str, inv: Invocation) -> Reply:
        try:
            incident = await self.stores.incidents.acknowledge(
                incident_id, by=inv.user_id, at=self.clock()
            )
        except UnknownItemError as exc:
            return Reply(messages.unknown_item_message("incident", incident_id, exc.known))
        return Reply(messages.ack_message(incident, by=inv.user_id), self.policy.response_type)

    async def _silence(self, command: SilenceTarget, inv: Invocation) -> Reply:
        open_ids = [i.id for i in await self.stores.incidents.open()]
        if command.target not in self.check_names and command.target not in open_ids:
            return Reply(
                messages.unknown_target_message(command.target, self.check_names, open_ids)
            )
        now = self.clock()
        silence = await self.stores.incidents.silence(
            command.target,
            until=now + timedelta(seconds=command.duration_s),
            by=inv.user_id,
            at=now,
        )
        return Reply(messages.silence_message(silence), self.policy.response_type)

    # --- buttons ---------------------------------------------------------------------

    async def recheck_button(self, inv: Invocation, value: str) -> None:
        """ "Re-check": run the same checks again and post a new report (a background job)."""
        names = tuple(n for n in value.split() if n != "all" and n in self.check_names)
        if inv.response_url is None:
            return
        log.info("re-check by user=%s: %s", inv.user_id, names or "all")
        await self.poster.post(
            inv.response_url, messages.running_message(names, total=len(self.loaded.checks))
        )
        await self._run_and_post(names, inv.response_url)

    async def acknowledge_button(self, inv: Invocation, value: str) -> None:
        """ "Acknowledge": acknowledge the report's incidents, if allowed."""
        await self._button(inv, Action.ACK, value, self._ack)

    async def silence_button(self, inv: Invocation, value: str) -> None:
        """ "Silence 1h": hold back the alerts of the message's incidents for an hour."""

        async def silence_one(target: str, inv: Invocation) -> Reply:
            return await self._silence(SilenceTarget(target=target, duration_s=3600.0), inv)

        await self._button(inv, Action.SILENCE, value, silence_one)

    async def done_button(self, inv: Invocation, value: str) -> None:
        """ "Done": close the follow-up, if allowed."""
        await self._button(inv, Action.DONE, value, self._done)

    async def _button(
        self,
        inv: Invocation,
        action: Action,
        value: str,
        handle: Callable[[str, Invocation], Awaitable[Reply]],
    ) -> None:
        if inv.response_url is None:
            return
        decision = await self._authorise(inv, action)
        if not decision.allowed:
            refusal = messages.refusal_message(action, decision.reason)
            await self.poster.post(inv.response_url, refusal)
            return
        for item_id in value.split()[:25]:
            answer = await handle(item_id, inv)
            await self.poster.post(
                inv.response_url, answer.message, response_type=answer.response_type
            )

    # --- authorisation ---------------------------------------------------------------

    async def _authorise(self, inv: Invocation, action: Action) -> Decision:
        actor = Actor(user_id=inv.user_id, channel_id=inv.channel_id)
        if self.directory is not None and needs_group_lookup(self.policy, actor):
            # The answer goes with the ack: a slow Slack must not hold it past Slack's 3 s.
            lookup = self.directory.membership(inv.user_id, self.policy.allowed_user_groups)
            try:
                membership = await asyncio.wait_for(asyncio.shield(lookup), GROUP_LOOKUP_DEADLINE_S)
            except TimeoutError:
                membership = Membership(groups=frozenset(), unreadable=True)
            actor = Actor(
                user_id=inv.user_id,
                channel_id=inv.channel_id,
                user_groups=membership.groups,
                groups_unreadable=membership.unreadable,
            )
        return authorise(self.policy, actor, action)


def _action_of(
    command: MarkDeploy | MarkDone | AddFollowUp | Acknowledge | SilenceTarget,
) -> Action:
    if isinstance(command, MarkDeploy):
        return Action.DEPLOY
    if isinstance(command, MarkDone):
        return Action.DONE
    if isinstance(command, AddFollowUp):
        return Action.FOLLOWUP
    if isinstance(command, Acknowledge):
        return Action.ACK
    return Action.SILENCE


def _age(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
