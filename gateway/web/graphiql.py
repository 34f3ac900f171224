"""GraphiQL at /graphql, served entirely by the gateway.

Strawberry's own IDE page loads React and GraphiQL from a public CDN: on a network without
internet (as many public-administration networks are) it says "Loading…" forever, and
elsewhere it tells the CDN every visitor's address. This page loads the same pinned files
from our own /assets (static/vendor/graphiql, see its README), and its script from a file,
so the Content-Security-Policy allows no inline script and no other host.
"""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from gateway.web.page import asset

# GraphiQL's components set inline styles (the editor's sizes, the explorer's colours):
# styles may be inline here, scripts may not.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

FILES = "vendor/graphiql"


def graphiql_html() -> str:
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Lotse GraphQL API · GraphiQL</title>
    <link rel="icon" href="{asset('icons/icon.svg')}" type="image/svg+xml">
    <link rel="stylesheet" href="{asset(f'{FILES}/graphiql-3.8.3.min.css')}">
    <link rel="stylesheet" href="{asset(f'{FILES}/plugin-explorer-1.0.2.css')}">
    <link rel="stylesheet" href="{asset('graphiql.css')}">
    <script src="{asset(f'{FILES}/react-18.2.0.production.min.js')}" defer></script>
    <script src="{asset(f'{FILES}/react-dom-18.2.0.production.min.js')}" defer></script>
    <script src="{asset(f'{FILES}/graphiql-3.8.3.min.js')}" defer></script>
    <script src="{asset(f'{FILES}/plugin-explorer-1.0.2.umd.js')}" defer></script>
    <script src="{asset('graphiql-init.js')}" defer></script>
  </head>
  <body>
    <div id="graphiql" class="graphiql-container">Loading…</div>
  </body>
</html>
"""


def graphiql_response() -> HTMLResponse:
    return HTMLResponse(graphiql_html(), headers={
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-cache",
    })
