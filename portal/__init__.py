"""The billing page's files (plain ES modules, CSS, HTML), served by gateway/portal_routes.py.

A package only so that they install with the gateway as package data; there is no Python here."""
