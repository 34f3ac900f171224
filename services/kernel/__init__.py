"""What every Lotse process stands on: settings, logging, NATS, event store, projector,
micro endpoints, token verification, mailer, health."""
