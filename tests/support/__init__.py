"""Shared test helpers: real gunicorn processes, webhook signing, a recording service fake."""
