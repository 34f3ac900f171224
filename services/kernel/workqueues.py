"""Letting go of a work-queue message (MAIL, `<SERVICE>_TASKS`) once its consumer is done.

Their messages carry personal data (a mail's address, name and link; a task's address or
username). A work queue's ack removes the message, but the file store only marks it
deleted: its bytes stay in the block file until the block is compacted or emptied, which a
queue that always holds some waiting message may never be. A message delete overwrites
them (the server's default for `$JS.API.STREAM.MSG.DELETE`, "erase"), so a consumer erases
what it is done with before it acks; a message erased first and then not acked (the ack
lost) is not delivered again either: there is nothing left to deliver.
tests/integration/test_erasure_on_disk.py looks into the block files.
"""

from __future__ import annotations

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from services.kernel.logging import get_logger

log = get_logger("workqueues")


async def erase(js: JetStreamContext, stream: str, msg: Msg) -> None:
    """Delete the message with its bytes overwritten. Failing that, the ack or term that
    follows still removes it (bytes left until compaction): a warning, not a redelivery."""
    try:
        await js.delete_msg(stream, msg.metadata.sequence.stream)
    except nats.errors.Error as e:
        log.warning("workqueues.erase_failed", stream=stream, seq=msg.metadata.sequence.stream, error=str(e))


async def done(js: JetStreamContext, stream: str, msg: Msg) -> None:
    """Handled: erase, then ack."""
    await erase(js, stream, msg)
    await msg.ack()


async def dropped(js: JetStreamContext, stream: str, msg: Msg) -> None:
    """Never to be handled (unreadable, refused for good, out of attempts): erase, then term."""
    await erase(js, stream, msg)
    await msg.term()
