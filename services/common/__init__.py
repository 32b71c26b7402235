"""Shared runtime used by all three services: settings, bus, outbox, inbox, db, auth, logs, health.

Keep it boring and small: anything only one service needs lives in that service.
"""
