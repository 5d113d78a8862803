"""Privacy: consent, redaction, per-contributor encryption, erasure, retention, audit."""
