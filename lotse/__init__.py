"""The `lotse` command: run the platform, one service, the gateway, or an admin task."""
