"""Identity: accounts, sign-in, sessions and tokens, platform roles."""
