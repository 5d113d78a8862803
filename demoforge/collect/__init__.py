"""The collector service: batch ingest from devices, session listing and export."""
