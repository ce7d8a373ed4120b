"""Incidents: a register of AI incidents, their regulatory reporting clocks, corrective
actions and the consequences in the portfolio (issue 20)."""
