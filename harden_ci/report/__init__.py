"""Reports for reviewers and adopters: `explain`, `graph`, `sbom` and `policy`.

Every module here is pure: it reads a spec and its plan (walking workflows, jobs and steps
generically, never special-casing a stage's job ids) and returns data or text. Printing
and files are the CLI's job.
"""
