"""The dashboard's charts, from a ``governance.dashboard.Dashboard`` to SVG: one module used
by the web page and the board-pack PDF, so both draw exactly the same figures.

Contract: ``dashboard_charts(dashboard) -> dict[str, SafeString]`` with one entry per chart:
``funnel``, ``scaling-trend``, ``risk-mix``, ``approvals-cycle``, ``gpu-spend``,
``gpu-spend-trend``, ``utilisation``, ``roadmap``, ``barriers``. A chart whose panel has no
data is a small SVG that says "no data" (never an empty string). Built from ``core.charts``
primitives (accessible title, text values, no script, CSP-clean, WeasyPrint-safe).
"""
