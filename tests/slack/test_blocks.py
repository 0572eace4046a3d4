from __future__ import annotations

from prodguardian.slack.blocks import (
    MAX_BLOCKS,
    MAX_TEXT_CHARS,
    SECTION_TEXT_LIMIT,
    Button,
    MessageBuilder,
    block_text_length,
)
from tests.support.slack_standin import limit_problems


def test_long_section_is_cut_with_marker_and_closed_code_block() -> None:
    out = MessageBuilder()
    out.section("```\n" + "y" * 10_000 + "\n```")
    message = out.build("fallback")
    text = message.blocks[0]["text"]["text"]
    assert len(text) <= SECTION_TEXT_LIMIT
    assert "cut to fit" in text
    assert text.count("```") % 2 == 0


def test_too_many_blocks_keeps_footer_and_says_how_many_were_cut() -> None:
    out = MessageBuilder()
    for i in range(120):
        out.section(f"section {i}")
    out.context(["the footer"], footer=True)
    out.actions([Button("Re-check", "a", "all")])
    message = out.build("fallback")
    assert len(message.blocks) == MAX_BLOCKS
    assert message.blocks[-1]["type"] == "actions"
    assert message.blocks[-2]["elements"][0]["text"] == "the footer"
    note = message.blocks[-3]["elements"][0]["text"]
    assert "73 more block(s) not shown" in note
    assert limit_problems(message.payload()) == []


def test_total_text_is_kept_under_slack_limit() -> None:
    out = MessageBuilder()
    for _ in range(40):
        out.section("z" * 2900)
    out.actions([Button("Re-check", "a", "all")])
    message = out.build("f" * 10_000)
    total = sum(block_text_length(b) for b in message.blocks)
    assert total <= MAX_TEXT_CHARS
    assert len(message.text) <= 3000
    assert limit_problems(message.payload()) == []
    assert "not shown" in str(message.blocks[-2])


def test_button_text_and_value_are_cut() -> None:
    element = Button("b" * 200, "act", "v" * 5000, style="danger").to_block_element()
    assert len(element["text"]["text"]) <= 75
    assert len(element["value"]) == 2000
    assert element["style"] == "danger"


def test_header_is_cut_to_150() -> None:
    out = MessageBuilder()
    out.header("h" * 400)
    assert len(out.build("x").blocks[0]["text"]["text"]) <= 150


def test_empty_sections_and_contexts_are_skipped() -> None:
    out = MessageBuilder()
    out.section("  ")
    out.context([""])
    assert out.build("x").blocks == ()
