"""One module per stage; `harden_ci.plan.registry` lists them in pipeline order."""
