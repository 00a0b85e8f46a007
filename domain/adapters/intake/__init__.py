"""Report files from the inbox: claiming them, reading their bytes, checking who signed."""
