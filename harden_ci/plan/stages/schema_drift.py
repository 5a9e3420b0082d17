"""Schema drift: block a change whose database models and migrations disagree, checked
against a throwaway database service container where the preset needs one."""

from __future__ import annotations

from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Service, Step, read
from harden_ci.plan.steps import checkout, setup_toolchain

CONTROL = "Schema drift between models and migrations blocks the change"
JOB_ID = "schema-drift"

# What each preset runs; each exits non-zero when models and migrations disagree.
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


def build(ctx: PlanContext) -> list[Job]:
    drift = ctx.spec.gates.schema_drift if ctx.spec.gates else None
    if drift is None:
        return []
    service = ctx.spec.services[drift.service]
    env = {"SCHEMA_CHECK": drift.command or PRESETS[drift.preset]}
    services: dict[str, Service] = {}
    if drift.database != "none":
        assert drift.database_image is not None
        port, db_env, url, health = _DATABASES[drift.database]
        services[drift.database] = Service(
            image=drift.database_image, env=db_env, ports=[f"{port}:{port}"],
            options=f'--health-cmd "{health}" --health-interval 5s --health-timeout 5s '
                    "--health-retries 20",
        )
        env["DATABASE_URL"] = url
    steps: list[Step] = [checkout(ctx), *setup_toolchain(ctx, service)]
    if service.install_command:
        steps.append(Step(name="Install dependencies", run=service.install_command,
                          working_directory=service.path))
    steps.append(Step(name="Check models against migrations", run=load_script("schema-check.sh"),
                      env=env, working_directory=service.path))
    return [Job(id=JOB_ID, name=f"Schema drift ({drift.service})",
                runs_on=_labels(service.runner_labels(ctx.spec.project)), timeout_minutes=20,
                permissions={"contents": read("check out models and migrations")},
                services=services, steps=steps, control=CONTROL)]


def _labels(labels: list[str]) -> str | list[str]:
    return labels[0] if len(labels) == 1 else labels
