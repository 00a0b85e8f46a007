"""The briefing on paper and screen: Markdown and HTML, the Word document, charts, fonts."""
