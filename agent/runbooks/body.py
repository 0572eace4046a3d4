"""The Markdown body of a runbook: its sections, and the steps of its Fix section.

A body has ``## Symptoms``, ``## Cause``, ``## Fix`` and ``## Verification`` sections. The Fix
section is a list; each item may be followed by a fenced code block holding its commands.
The first items become the "first steps" shown in a report.
"""

from __future__ import annotations

import re
import textwrap

from pydantic import BaseModel, ConfigDict

REQUIRED_SECTIONS = ("Symptoms", "Cause", "Fix", "Verification")

_HEADING = re.compile(r"^##[ \t]+(.+?)[ \t#]*$")
_ITEM = re.compile(r"^[ \t]{0,3}(?:\d+[.)]|[-*+])[ \t]+(.*)$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


class Step(BaseModel):
    """One step of a fix: what to do, and the commands that do it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    commands: tuple[str, ...] = ()


def sections(body: str) -> dict[str, str]:
    """Level-2 sections by heading (as written), each with its text; fences are respected."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (heading := _HEADING.match(line)):
            current = out.setdefault(heading.group(1).strip(), [])
            continue
        if current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip("\n") for name, lines in out.items()}


def missing_sections(body: str) -> list[str]:
    """The required sections ``body`` lacks (heading case is ignored)."""
    present = {name.lower() for name in sections(body)}
    return [name for name in REQUIRED_SECTIONS if name.lower() not in present]


def section(body: str, name: str) -> str:
    """The text of the section called ``name`` (any case), or ``""``."""
    for heading, text in sections(body).items():
        if heading.lower() == name.lower():
            return text
    return ""


def fix_steps(body: str) -> tuple[Step, ...]:
    """The steps of the Fix section, in order."""
    steps: list[Step] = []
    text: list[str] = []
    commands: list[str] = []
    fence: list[str] | None = None

    def flush() -> None:
        if text or commands:
            steps.append(Step(text=" ".join(text).strip(), commands=tuple(commands)))

    for line in section(body, "Fix").splitlines():
        if _FENCE.match(line):
            if fence is None:
                fence = []
            else:
                block = textwrap.dedent("\n".join(fence)).strip()
                if block:
                    commands.append(block)
                fence = None
            continue
        if fence is not None:
            fence.append(line)
            continue
        item = _ITEM.match(line)
        if item:
            flush()
            text, commands = [item.group(1).strip()], []
        elif line.strip() and text:
            text.append(line.strip())
    flush()
    return tuple(steps)
