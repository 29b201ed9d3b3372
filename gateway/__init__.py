"""The ASGI gateway: settings, auth, the GraphQL endpoint, the command line."""
