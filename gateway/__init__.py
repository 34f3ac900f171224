"""The gateway: one GraphQL API over the platform's services, plus the pages mail links open.

Stateless: every replica holds a NATS connection, a token verifier and a live hub, and
nothing else, so any number of them can run behind a load balancer.
"""
