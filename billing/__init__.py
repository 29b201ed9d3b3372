"""Pure billing domain: money, periods, prices, access rules. Standard library only."""
