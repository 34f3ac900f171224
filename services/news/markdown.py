"""An item's body: Markdown in, sanitised HTML out.

markdown-it-py renders CommonMark (with tables and strikethrough) with raw HTML switched
off, so `<script>` or `<b onclick=…>` in the text stays text. nh3 (the Ammonia sanitiser)
then cleans the result against a short list of tags and attributes as a second, independent
line: no script, no event handler, no style, and links only to http(s) and mail addresses
(markdown-it already leaves `javascript:` links unlinked). Every link gets
`rel="nofollow noopener noreferrer"`.

Images are not shown: a remote image loads from someone else's server the moment a reader
opens the item, telling it who read what and when. An image in the text becomes a link to
it, labelled with its alt text, which the reader may follow or not.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"


def _image_as_link(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict,
                   env: EnvType) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or "Bild"
    src = str(token.attrGet("src") or "")
    return f'<a href="{escapeHtml(src)}">{escapeHtml(alt)}</a>'


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_as_link)
    return md


_md = _parser()


def render(body: str) -> str:
    """Sanitised HTML for a Markdown body; any input gives some output, never markup we did not allow."""
    if not body.strip():
        return ""
    return nh3.clean(_md.render(body), tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=LINK_REL,
                     strip_comments=True)


def text_of(rendered: str) -> str:
    """The words of rendered HTML without markup: for the search index and calendar entries."""
    if not rendered:
        return ""
    return html.unescape(nh3.clean(rendered, tags=set(), attributes={})).strip()


def plain(body: str) -> str:
    """The body's words without markup."""
    return text_of(render(body))
