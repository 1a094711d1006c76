"""What the bot knows: FAQ files, policy figures, holiday data and the SQLite store."""
