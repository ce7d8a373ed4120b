"""Governance: risk assessments, controls and approval gates (built on the domain core)."""
