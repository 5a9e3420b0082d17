"""Schema drift: block a change whose database models and migrations disagree, checked
against a throwaway database service container where the preset needs one."""

from __future__ import annotations

from harden_ci.model.gates import SchemaDrift
from harden_ci.model.services import Service as SpecService
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Service, Step, health_options, read
from harden_ci.plan.steps import (
    checkout,
    go_tool_from_source,
    runs_on,
    setup_toolchain,
)
from harden_ci.plan.tools import ATLAS_COMMIT, version

CONTROL = "Schema drift between models and migrations blocks the change"
JOB_ID = "schema-drift"

# What each preset runs; each exits non-zero when models and migrations disagree.
# `atlas` runs templates/scripts/atlas-drift.sh instead (a check in two commands).
PRESETS = {
    "alembic": "alembic upgrade head && alembic check",
    "django": "python manage.py migrate --no-input && "
              "python manage.py makemigrations --check --dry-run",
    "prisma": "npx --no-install prisma migrate diff --from-migrations prisma/migrations "
              '--to-schema-datamodel prisma/schema.prisma --shadow-database-url "$DATABASE_URL" '
              "--exit-code",
}
# Throwaway credentials for a database that lives only as long as the job.
_DATABASES = {
    "postgres": (5432, {"POSTGRES_PASSWORD": "ci", "POSTGRES_DB": "ci"},
                 "postgresql://postgres:ci@localhost:5432/ci",
                 "pg_isready -U postgres"),
    "mysql": (3306, {"MYSQL_ROOT_PASSWORD": "ci", "MYSQL_DATABASE": "ci"},
              "mysql://root:ci@127.0.0.1:3306/ci",
              "mysqladmin ping -h 127.0.0.1 -pci"),
}
# The same databases as Atlas dev URLs, scoped to one schema (postgres: `public`; mysql:
# the `ci` database), the scope of a single-schema HCL or SQL file. The service container
# serves no TLS, so postgres is told not to ask for it.
ATLAS_DEV_URLS = {
    "postgres": "postgres://postgres:ci@localhost:5432/ci?search_path=public&sslmode=disable",
    "mysql": "mysql://root:ci@127.0.0.1:3306/ci",
}
ATLAS_SOURCE = ".harden-ci-atlas"  # where the Atlas source is checked out in the workspace


def build(ctx: PlanContext) -> list[Job]:
    drift = ctx.spec.gates.schema_drift if ctx.spec.gates else None
    if drift is None:
        return []
    service = ctx.spec.services[drift.service]
    env: dict[str, str] = {}
    services: dict[str, Service] = {}
    if drift.database != "none":
        assert drift.database_image is not None
        port, db_env, url, health = _DATABASES[drift.database]
        services[drift.database] = Service(
            image=drift.database_image, env=db_env, ports=[f"{port}:{port}"],
            options=health_options(health),
        )
        env["DATABASE_URL"] = url
    steps: list[Step] = [checkout(ctx)]
    if drift.preset == "atlas":
        env["ATLAS_DEV_URL"] = ATLAS_DEV_URLS[drift.database]
        steps += install_atlas(ctx)
    if drift.preset == "atlas" and drift.command is None:
        # Atlas reads the schema files itself: no language toolchain is needed.
        steps.append(_atlas_check(drift, service, env))
    else:
        steps += setup_toolchain(ctx, service)
        install = drift.install or service.install_command
        if install:
            steps.append(Step(name="Install dependencies", run=load_script("run-command.sh"),
                              env={"COMMAND": install}, working_directory=service.install_dir))
        steps.append(Step(name="Check models against migrations",
                          run=load_script("schema-check.sh"),
                          env={"SCHEMA_CHECK": drift.command or PRESETS[drift.preset], **env},
                          working_directory=service.path))
    return [Job(id=JOB_ID, name=f"Schema drift ({drift.service})",
                runs_on=runs_on(service.runner_labels(ctx.spec.project)),
                timeout_minutes=20,
                permissions={"contents": read("check out models and migrations")},
                services=services, steps=steps, control=CONTROL)]


def install_atlas(ctx: PlanContext) -> list[Step]:
    """Atlas, built from the source of its release commit.

    Atlas's own installers are not pinned by content: ariga/setup-atlas (v0.3, a composite
    action) and the @ariga/atlas npm package both run `curl https://atlasgo.sh | sh` at run
    time, which downloads whatever binary the vendor serves then (the official build, under
    Ariga's EULA), and harden-ci has no published checksum to hold such a download to. A
    checkout of ariga/atlas at the release tag's commit fixes the source, the module's go.sum
    fixes every dependency by hash, and the result is the Apache-2.0 community edition
    (`migrate diff`, `migrate validate`, HCL and SQL schemas; no ORM `external_schema`
    loaders)."""
    return go_tool_from_source(ctx, label="Atlas", tool="atlas",
                               version_text=f"{version('atlas')} (community edition)",
                               repository="ariga/atlas", commit=ATLAS_COMMIT, source=ATLAS_SOURCE,
                               module=f"{ATLAS_SOURCE}/cmd/atlas", package=".")


def atlas_paths(drift: SchemaDrift, service: SpecService) -> tuple[str, str]:
    """The migration directory and desired schema, repository-relative (defaults beside
    the service)."""
    prefix = "" if service.path == "." else f"{service.path}/"
    return (drift.migrations or f"{prefix}migrations",
            drift.desired_schema or f"{prefix}schema.hcl")


def _atlas_check(drift: SchemaDrift, service: SpecService, env: dict[str, str]) -> Step:
    migrations, desired = atlas_paths(drift, service)
    return Step(name="Check models against migrations", run=load_script("atlas-drift.sh"),
                env={"ATLAS_MIGRATIONS": migrations, "ATLAS_SCHEMA": desired, **env})
