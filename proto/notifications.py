"""Notifications' contract.

Today notifications delivers the `MAIL` work queue (see proto/mail.py and kernel/mailer.py);
its endpoints (follows, inbox, digests) arrive with the notifications issue.
"""

from __future__ import annotations

from proto.common import Contract

SERVICE = "notifications"


class Notifications(Contract):
    service = SERVICE


ENDPOINTS = Notifications.endpoints()
