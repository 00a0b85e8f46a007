"""Use cases that join queries and adapters: the inbox, delivery, alerts, issuing a briefing."""
