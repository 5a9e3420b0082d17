"""The plan: typed workflows, jobs and steps built from the spec, plus the pin catalog."""
