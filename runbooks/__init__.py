"""The built-in runbook library: Markdown files with YAML front matter, shipped as package data."""
