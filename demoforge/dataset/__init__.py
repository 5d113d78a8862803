"""From stored sessions to training data: import, reduce to actions, segment, build, export."""
