"""Transports that feed the handler: replay (message files) and the WeChat gateway; the console is bot/console.py."""
