"""The mailer's notification-mail consumer follows `LOTSE_MAIL_ACK_WAIT`, also when the
queue already exists: pull_subscribe alone would keep the first deployment's value forever."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from proto import subjects
from services.kernel.clock import Clock
from services.kernel.mailer import Mailer
from services.kernel.settings import Settings
from services.kernel.streams import ensure_mail_stream


async def test_a_changed_ack_wait_reaches_an_existing_bulk_consumer(nc, tmp_path):
    js = nc.jetstream()
    await ensure_mail_stream(js)
    for seconds in (30.0, 12.0):
        mailer = Mailer(js, Settings(data_dir=tmp_path, mail_ack_wait=seconds), Clock())
        await mailer.start()
        try:
            info = await js.consumer_info(subjects.MAIL_STREAM, subjects.MAIL_BULK_CONSUMER)
            assert info.config.ack_wait == seconds
            assert info.config.max_ack_pending == 100  # the rest of the consumer kept
        finally:
            await mailer.stop()


def test_an_ack_wait_shorter_than_a_deferred_batch_is_refused_by_name():
    with pytest.raises(ValidationError, match="mail_ack_wait"):
        Settings(mail_ack_wait=2)
