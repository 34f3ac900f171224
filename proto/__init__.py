"""Lotse's wire contracts: subjects, models of every event and request/reply, typed client.

Nothing in here imports a service; services and the gateway import from here.
"""
