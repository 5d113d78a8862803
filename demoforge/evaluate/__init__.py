"""Evaluate trained agents live on MiniWoB++: task suites, episode runs, reports."""
