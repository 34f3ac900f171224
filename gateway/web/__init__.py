"""The web client for people: server-rendered pages, progressively enhanced, readable offline.

`routes.web_router()` gathers the pages; `page.Page` is what every handler stands on.
Design: ARCHITECTURE.md, "Web client"; what a person can do: README.md, "On a phone".
"""
