"""Notifications' contract.

Today notifications delivers the `MAIL` work queue (see proto/mail.py and kernel/mailer.py);
its endpoints (follows, inbox, digests) arrive with the notifications issue.
"""

from __future__ import annotations

from proto.common import EndpointSpec

SERVICE = "notifications"

ENDPOINTS: dict[str, EndpointSpec] = {}
