"""The ways a message reaches the handler: console, replay, WeChat gateway."""
