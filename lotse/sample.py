"""Loading the sample data set for `lotse dev`, once per data directory."""

from __future__ import annotations

from lotse.platform import Platform
from services.kernel.clock import clock
from services.kernel.logging import get_logger
from services.kernel.settings import Settings

log = get_logger("sample")

MARKER = "sample-data.loaded"


async def load_sample_data(settings: Settings, platform: Platform) -> bool:
    """Load the samples the first time; return whether they are there."""
    marker = settings.data_dir / MARKER
    if marker.exists():
        return True
    from services.identity import sample as identity_sample
    from services.identity.service import IdentityService

    # The samples are keyed by what the views hold: a view still being rebuilt must catch up first.
    for service in platform.services.values():
        if service.projector is not None:
            await service.projector.caught_up.wait()
    identity = platform.services["identity"]
    assert isinstance(identity, IdentityService)
    account_ids = await identity_sample.load(identity)
    directory = platform.services.get("directory")
    if directory is not None:
        from services.directory import sample as directory_sample
        from services.directory.service import DirectoryService

        assert isinstance(directory, DirectoryService)
        await directory_sample.load(directory, account_ids)
        news = platform.services.get("news")
        if news is not None:
            from services.news import sample as news_sample
            from services.news.service import NewsService

            # After the directory's: the items are written by its actors' owners.
            assert isinstance(news, NewsService)
            await news_sample.load(news, account_ids)
    marker.write_text(clock.now().isoformat() + "\n")
    log.info("sample.loaded", accounts=len(account_ids))
    return True
