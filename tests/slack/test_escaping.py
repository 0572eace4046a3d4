from __future__ import annotations

import pytest

from prodguardian.slack.escaping import code_block, cut, cut_tail, escape_mrkdwn, inline_code


def test_escape_makes_pings_and_links_literal() -> None:
    text = "<!channel> <!here> <@U123> <http://evil|click> a & b"
    escaped = escape_mrkdwn(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert escaped == (
        "&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;http://evil|click&gt; a &amp; b"
    )


def test_escape_escapes_ampersand_first() -> None:
    assert escape_mrkdwn("&lt;") == "&amp;lt;"


@pytest.mark.parametrize("limit", [5, 10, 50])
def test_cut_respects_limit_and_marks(limit: int) -> None:
    text = "x" * 100
    out = cut(text, limit, marker="…")
    assert len(out) <= limit
    assert out.endswith("…")
    assert cut("short", limit) == "short"


def test_cut_tail_keeps_the_end() -> None:
    text = "head\n" + "m" * 100 + "\nValueError: the end"
    out = cut_tail(text, 40)
    assert len(out) <= 40
    assert out.endswith("ValueError: the end")
    assert out.startswith("(cut)")


def test_code_block_cannot_be_closed_by_the_log_text() -> None:
    block = code_block("before ``` *bold* <!channel> ``` after", 500)
    inner = block.removeprefix("```\n").removesuffix("\n```")
    assert "```" not in inner
    assert "&lt;!channel&gt;" in inner


def test_code_block_cut_never_splits_an_escape() -> None:
    text = "<" * 5000
    block = code_block(text, 1000)
    assert len(block) <= 1000
    inner = block.removeprefix("```\n").removesuffix("\n```").split("\n", 1)[1]
    assert inner.replace("&lt;", "") == ""


def test_inline_code_is_one_line_and_has_no_backticks() -> None:
    assert inline_code("a\n`b`\tc") == "`a 'b' c`"
    assert inline_code("") == ""
