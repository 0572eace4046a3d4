"""Renderers: pure functions from a :class:`Report` to text. They never send anything."""

from prodguardian.render.json_report import render_json, report_json_schema
from prodguardian.render.terminal import render_terminal

__all__ = ["render_json", "render_terminal", "report_json_schema"]
