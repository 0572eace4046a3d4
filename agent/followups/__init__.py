"""Follow-up checklists: scheduled after a fix or a deploy, verified by the bot, reminded."""
