"""Notifications: mail delivery now; follows, inbox, digests and live pushes with their issue."""
