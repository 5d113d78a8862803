"""Capture: the in-page recorder, managed browser sessions and the client spool."""
