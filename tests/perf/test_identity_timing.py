"""Does the time an answer takes tell who is registered? (`make bench`; printed, not asserted.)

The probe that found the leak measured `requestPasswordReset` at a median of 12.4 ms for an
existing account and 6.0 ms for an unknown one, `resendConfirmation` 11.8 vs 6.1 ms. Both
now queue a task and answer; this prints the medians of both paths, interleaved so that
noise falls on both alike, and their ratio.
"""

from __future__ import annotations

import statistics
import time

from proto import identity as api
from services.kernel.clock import Clock
from tests.support.platform import platform_settings, running_platform

ACCOUNTS = 10
PER_ACCOUNT = 4  # the mail limit per address and hour (5) less the registration
PASSWORD = "Fahrrad Ampel Wolke 42 Sommer"


async def test_known_and_unknown_identifiers_answer_in_the_same_time(nats_url, tmp_path):
    settings = platform_settings(nats_url, tmp_path, None)
    async with running_platform(settings, Clock(), services=["identity", "notifications"]) as (_, client):
        people = [(f"timing.{n}", f"timing.{n}@example.org") for n in range(ACCOUNTS)]
        for username, email in people:
            await client.identity.register(api.Register(
                username=username, email=email, password=PASSWORD, display_name="Timing Test"))

        async def timed(call) -> float:
            started = time.perf_counter()
            await call
            return time.perf_counter() - started

        rows = []
        for verb, build in (
            ("requestPasswordReset", lambda who: client.identity.request_password_reset(
                api.RequestPasswordReset(identifier=who))),
            ("resendConfirmation", lambda who: client.identity.resend_confirmation(
                api.ResendConfirmation(email=who))),
        ):
            known, unknown = [], []
            for round_ in range(PER_ACCOUNT):
                for n, (username, email) in enumerate(people):
                    who = email if verb == "resendConfirmation" else username
                    known.append(await timed(build(who)))
                    unknown.append(await timed(build(f"nobody.{verb}.{round_}.{n}@example.org")))
            rows.append((verb, statistics.median(known) * 1000, statistics.median(unknown) * 1000))
        print()
        n = ACCOUNTS * PER_ACCOUNT
        print(f"{'question':<22} {'existing p50':>13} {'unknown p50':>12} {'ratio':>6}   (n={n} each)")
        for verb, known_ms, unknown_ms in rows:
            print(f"{verb:<22} {known_ms:>10.2f} ms {unknown_ms:>9.2f} ms {known_ms / unknown_ms:>6.2f}")
