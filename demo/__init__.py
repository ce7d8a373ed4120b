"""The demo organisation: a bank with business units, initiatives, models, GPUs, approvals and
FinOps data, built by ``manage.py seed_demo``. Not part of the domain: nothing imports it."""
