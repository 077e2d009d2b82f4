"""Planner pages: the rules list and the decision-table editor (the data comes from the suggestions API)."""
