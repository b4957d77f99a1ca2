"""URL configurations, one per zone. The zone middleware picks one for each request."""
