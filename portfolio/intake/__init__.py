"""The registration wizard: basics, purpose, owners, risk questionnaire, review, submit."""
