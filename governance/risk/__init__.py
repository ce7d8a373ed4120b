"""Risk: the versioned questionnaire, scoring, assessments and overrides, the control
library, evidence, reviews, waivers and the blockers a gate checks."""
