"""The governance library's pages (issue 19): the control library, questionnaire versions
and drafts, YAML import/export. Interface only: the domain is ``governance.risk.library``,
``governance.risk.library_io`` and ``governance.approvals.content``."""
