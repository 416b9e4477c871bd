"""Marketing consents, the do-not-call list and refusals: the facts campaign compliance needs."""
