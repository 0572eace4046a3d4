"""The report as JSON, and the JSON Schema that documents that form (docs/report.schema.json,
written by `make schema`)."""

from __future__ import annotations

from typing import Any

from prodguardian.report import Report


def render_json(report: Report) -> str:
    """The report as indented JSON, in the form ``report_json_schema()`` describes."""
    return report.model_dump_json(indent=2)


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema of :func:`render_json`'s output."""
    schema = Report.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ProdGuardian report"
    return schema
