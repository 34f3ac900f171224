"""gateway/schema.graphql is the public contract as partners read it; it must match the code."""

from __future__ import annotations

from gateway.export import SDL_PATH, sdl


def test_checked_in_sdl_is_the_live_schema():
    assert SDL_PATH.read_text(encoding="utf-8") == sdl(), (
        "gateway/schema.graphql is stale: run `make schema` (or `python -m gateway.export`) and commit it"
    )


def test_public_names_are_stable():
    text = sdl()
    for name in (
        "register(input: RegisterInput!): RegisterPayload!",
        "signIn(identifier: String!, password: String!)",
        "refreshSession(refreshToken: String!)",
        "viewer: Account",
        "viewerUpdated: Account!",
        "retryAfter: Int",
        "userErrors: [UserError!]!",
    ):
        assert name in text, name
