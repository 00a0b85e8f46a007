"""The outside world: message channels, files and leases, signing keys, spreadsheets, Word, charts.

Adapters use rules (for view models and words), never queries or services.
"""
