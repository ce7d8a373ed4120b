"""Reporting: the executive dashboard's figures, panels and charts, the definitions, the
board pack and governance dossier PDFs, and the register exports."""
