"""Payment processors behind one port (the Stripe and sandbox adapters arrive with payments)."""
