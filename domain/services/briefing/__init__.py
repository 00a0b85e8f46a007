"""Issuing a briefing and sending it to leadership."""
