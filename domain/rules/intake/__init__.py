"""What a report file says, read cell by cell, before it meets the database."""
