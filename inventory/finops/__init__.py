"""GPU FinOps: waste findings (idle, orphaned, over-provisioned, unused reservations) and
the monthly chargeback per business unit."""
