"""The briefing as data: its view model, the rules that build it, its wording and order."""
