"""Re-recording fixtures: the plan, the pytest and http runners, and the review of staged recordings."""
