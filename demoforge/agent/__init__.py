"""The agent runtime: observe a live page, decide with the policy, act through real input."""
