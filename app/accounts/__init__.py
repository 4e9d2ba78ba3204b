"""Who signs in and how often they may try: accounts, tokens, API keys, sign-in throttling
and rate limits."""
