"""Approvals: policies as data, requests and decisions with separation of duties, SLA
escalation, delegation, and the effects an approved gate applies."""
