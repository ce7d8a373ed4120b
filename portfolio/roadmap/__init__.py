"""The four-phase enterprise scaling roadmap: phases, activities, success indicators and the
registry of indicator functions."""
