"""Fixture repositories shaped like real monorepos, and the truth `init` should read from
each: built in a temporary folder by the test (files and a real git repository), never
read from outside the repository.

Facts counted per tree: each service (by name), its path, language, package manager,
toolchain version, test, lint and type-check commands and Dockerfile with its build
context; the default branch; each shared path. A service with no Dockerfile (or no
declared test, lint or type-check command, or no version file) has that fact as `None`:
init must not invent one.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harden_ci.init.detect import Stack

Fact = tuple[str, ...]


@dataclass(frozen=True)
class Shape:
    name: str
    files: dict[str, str]
    truth: dict[str, Any]
    branch: str = "main"  # the branch checked out
    origin_head: str | None = None  # what origin/HEAD points at, if there is a remote


def _json(data: object) -> str:
    return json.dumps(data, indent=2) + "\n"


def _git(root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env,
                   timeout=60)


def build(shape: Shape, tmp_path: Path) -> Path:
    root = tmp_path / shape.name
    for path, text in shape.files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    default = shape.origin_head or shape.branch
    _git(root, "init", "-q", "-b", default)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "fixture")
    if shape.origin_head:
        _git(root, "update-ref", f"refs/remotes/origin/{shape.origin_head}", "HEAD")
        _git(root, "symbolic-ref", "refs/remotes/origin/HEAD",
             f"refs/remotes/origin/{shape.origin_head}")
    if shape.branch != default:
        _git(root, "checkout", "-q", "-b", shape.branch)
    return root


def _service_facts(name: str, svc: dict[str, Any]) -> dict[Fact, object]:
    return {("service", name): True, ("path", name): svc["path"],
            ("language", name): svc["language"], ("package_manager", name): svc["manager"],
            ("version", name): svc["version"], ("test", name): svc["test"],
            ("lint", name): svc["lint"], ("typecheck", name): svc["typecheck"],
            ("dockerfile", name): svc["dockerfile"]}


def truth_facts(truth: dict[str, Any]) -> dict[Fact, object]:
    facts: dict[Fact, object] = {("default_branch",): truth["default_branch"]}
    facts.update({("shared_path", p): True for p in truth["shared_paths"]})
    for name, svc in truth["services"].items():
        facts.update(_service_facts(name, svc))
    return facts


def detected_facts(stack: Stack) -> dict[Fact, object]:
    facts: dict[Fact, object] = {("default_branch",): stack.default_branch}
    facts.update({("shared_path", p): True for p in stack.shared_paths})
    for s in stack.services:
        found = s.detected
        facts.update(_service_facts(s.name, {
            "path": s.path, "language": s.language, "manager": found.package_manager,
            "version": found.version, "test": found.test, "lint": found.lint,
            "typecheck": found.typecheck,
            "dockerfile": (s.dockerfile, found.docker_context) if s.dockerfile else None}))
    return facts


@dataclass
class Score:
    right: list[Fact] = field(default_factory=list)
    wrong: list[tuple[Fact, object, object]] = field(default_factory=list)
    missed: list[Fact] = field(default_factory=list)
    extra: list[Fact] = field(default_factory=list)

    @property
    def precision(self) -> float:
        said = len(self.right) + len(self.wrong) + len(self.extra)
        return len(self.right) / said if said else 0.0

    @property
    def recall(self) -> float:
        true = len(self.right) + len(self.wrong) + len(self.missed)
        return len(self.right) / true if true else 0.0

    def line(self, name: str) -> str:
        return (f"{name}: precision {self.precision:.1%}, recall {self.recall:.1%} "
                f"(right {len(self.right)}, wrong {len(self.wrong)}, missed "
                f"{len(self.missed)}, extra {len(self.extra)})")


def score(truth: dict[Fact, object], detected: dict[Fact, object]) -> Score:
    result = Score()
    for fact, value in truth.items():
        if fact not in detected:
            result.missed.append(fact)
        elif detected[fact] == value:
            result.right.append(fact)
        else:
            result.wrong.append((fact, value, detected[fact]))
    result.extra = [f for f in detected if f not in truth]
    return result


def _svc(path: str, language: str | None, manager: str | None, version: str | None,
         test: str | None, dockerfile: tuple[str, str] | None, lint: str | None = None,
         typecheck: str | None = None) -> dict[str, Any]:
    return {"path": path, "language": language, "manager": manager, "version": version,
            "test": test, "dockerfile": dockerfile, "lint": lint, "typecheck": typecheck}


# --- a pnpm + turbo monorepo with Prisma and two Docker images built from the root ----------

TURBO = Shape("turbo", origin_head="main", branch="main", files={
    "package.json": _json({"name": "acme", "private": True, "packageManager": "pnpm@9.12.0",
                           "scripts": {"build": "turbo build", "test": "turbo test"},
                           "devDependencies": {"turbo": "^2.1.0"}, "engines": {"node": ">=20"}}),
    "pnpm-workspace.yaml": "packages:\n  - \"apps/*\"\n  - \"packages/*\"\n",
    "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
    "turbo.json": _json({"tasks": {"build": {}, "test": {}}}),
    ".nvmrc": "v20.11.1\n",
    "apps/web/package.json": _json({
        "name": "@acme/web", "private": True,
        "scripts": {"dev": "next dev", "build": "next build", "start": "next start",
                    "lint": "next lint", "typecheck": "tsc --noEmit", "test": "vitest run"},
        "dependencies": {"@acme/ui": "workspace:*", "@acme/database": "workspace:*",
                         "next": "14.2.0"}}),
    "apps/web/next.config.mjs": "export default {};\n",
    "apps/web/src/app/(marketing)/page.tsx": "export default function Page() { return null }\n",
    "apps/web/Dockerfile": (
        "FROM node:20-alpine AS deps\nWORKDIR /app\n"
        "COPY package.json pnpm-lock.yaml pnpm-workspace.yaml turbo.json ./\n"
        "COPY apps/web/package.json ./apps/web/\nCOPY packages ./packages\n"
        "RUN corepack enable && pnpm install --frozen-lockfile\n"
        "COPY apps/web ./apps/web\nRUN pnpm --filter @acme/web build\n"
        "FROM node:20-alpine\nCOPY --from=deps /app/apps/web/.next ./.next\n"
        "CMD [\"node\", \"server.js\"]\n"),
    "apps/api/package.json": _json({
        "name": "@acme/api", "private": True,
        "scripts": {"build": "tsc", "start": "node dist/main.js", "test": "jest"},
        "dependencies": {"@acme/database": "workspace:*"}}),
    "apps/api/src/main.ts": "console.log('api')\n",
    # Built with `COPY . .` and turbo prune: only the workflow says the context is the root.
    "apps/api/Dockerfile": ("FROM node:20-alpine\nWORKDIR /app\nCOPY . .\n"
                            "RUN npx turbo prune @acme/api --docker\n"),
    "packages/database/package.json": _json({
        "name": "@acme/database", "main": "./index.ts",
        "scripts": {"db:generate": "prisma generate", "db:migrate": "prisma migrate deploy"},
        "dependencies": {"@prisma/client": "5.20.0"}}),
    "packages/database/index.ts": "export * from '@prisma/client'\n",
    "packages/database/prisma/schema.prisma": "datasource db {\n  provider = \"postgresql\"\n}\n",
    "packages/database/prisma/migrations/20240101_init/migration.sql": "CREATE TABLE t (id int);\n",
    "packages/ui/package.json": _json({"name": "@acme/ui", "main": "./src/index.tsx"}),
    "packages/ui/src/index.tsx": "export const Button = () => null\n",
    "packages/eslint-config/package.json": _json({"name": "@acme/eslint-config",
                                                  "main": "index.js"}),
    "packages/eslint-config/index.js": "module.exports = {}\n",
    "packages/typescript-config/package.json": _json({"name": "@acme/typescript-config"}),
    "packages/typescript-config/base.json": "{}\n",
    ".github/workflows/ci.yml": (
        "name: CI\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n      - run: pnpm install --frozen-lockfile\n"
        "      - run: pnpm turbo test\n  images:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          context: .\n"
        "          file: apps/api/Dockerfile\n"),
}, truth={
    "default_branch": "main",
    "shared_paths": ["packages/database", "packages/ui", "pnpm-lock.yaml"],
    "services": {
        "web": _svc("apps/web", "node", "pnpm", "20.11.1", "pnpm test",
                    ("apps/web/Dockerfile", "."), lint="pnpm lint", typecheck="pnpm typecheck"),
        "api": _svc("apps/api", "node", "pnpm", "20.11.1", "pnpm test",
                    ("apps/api/Dockerfile", ".")),
    },
})

# --- a Go server at the root: nested modules, SQL migrations, OpenAPI, `master` -------------

GO_SERVER = Shape("gosrv", origin_head="master", branch="fix-login", files={
    "go.mod": "module github.com/acme/gosrv\n\ngo 1.22.5\n\nrequire github.com/lib/pq v1.10.9\n",
    "go.sum": "github.com/lib/pq v1.10.9 h1:x\n",
    "cmd/server/main.go": "package main\n\nfunc main() {}\n",
    "internal/store/store.go": "package store\n",
    "migrations/0001_init.up.sql": "CREATE TABLE users (id bigserial);\n",
    "migrations/0001_init.down.sql": "DROP TABLE users;\n",
    "api/openapi.yaml": "openapi: 3.0.3\ninfo: {title: gosrv, version: '1'}\npaths: {}\n",
    "api/client/go.mod": "module github.com/acme/gosrv/api/client\n\ngo 1.21\n",
    "api/client/client.go": "package client\n",
    "tools/go.mod": "module github.com/acme/gosrv/tools\n\ngo 1.22\n",
    "tools/tools.go": "//go:build tools\npackage tools\n",
    "examples/hello/go.mod": "module hello\n\ngo 1.22\n",
    "examples/hello/main.go": "package main\n\nfunc main() {}\n",
    "Makefile": "test:\n\tgo test ./...\n",
    "Dockerfile": ("FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\n"
                   "RUN go mod download\nCOPY . .\nRUN go build -o /server ./cmd/server\n"),
    ".github/workflows/test.yml": (
        "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    services:\n"
        "      postgres:\n        image: postgres:16\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: go vet ./...\n"
        "      - run: go test -race -count=1 ./...\n"),
}, truth={
    "default_branch": "master",
    "shared_paths": [],
    "services": {
        "gosrv": _svc(".", "go", "go", "1.22.5", "go test -race -count=1 ./...",
                      ("Dockerfile", "."), lint="go vet ./..."),
    },
})

# --- FastAPI + Next.js: uv and pnpm, Postgres-backed tests, Terraform -----------------------

FULLSTACK = Shape("fullstack", files={
    "backend/pyproject.toml": (
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.10,<4.0\"\n"
        "dependencies = [\"fastapi>=0.114\", \"sqlmodel>=0.0.21\"]\n\n"
        "[tool.uv]\ndev-dependencies = [\"pytest>=8\", \"ruff>=0.6\", \"mypy>=1.11\"]\n\n"
        "[tool.pytest.ini_options]\naddopts = \"-q\"\n\n"
        "[tool.ruff]\nline-length = 100\n\n[tool.mypy]\nstrict = true\n"),
    "backend/uv.lock": "version = 1\n",
    "backend/alembic.ini": "[alembic]\nscript_location = app/alembic\n",
    "backend/app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
    "backend/app/alembic/env.py": "\n",
    "backend/tests/test_api.py": "def test_ok():\n    assert True\n",
    "backend/Dockerfile": ("FROM python:3.10\nWORKDIR /app\nCOPY ./pyproject.toml ./uv.lock /app/\n"
                           "COPY ./app /app/app\n"),
    "frontend/package.json": _json({
        "name": "frontend", "private": True,
        "scripts": {"dev": "next dev", "build": "next build", "lint": "next lint",
                    "test": "vitest run", "test:e2e": "playwright test"},
        "dependencies": {"next": "14.2.0"}}),
    "frontend/pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
    "frontend/.nvmrc": "22\n",
    "frontend/src/app/page.tsx": "export default function Page() { return null }\n",
    "frontend/Dockerfile": ("FROM node:22\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\n"
                            "RUN corepack enable && pnpm install --frozen-lockfile\nCOPY . .\n"),
    "infra/terraform/main.tf": "terraform {}\n",
    "docker-compose.yml": (
        "services:\n  db:\n    image: postgres:16\n  backend:\n    build:\n"
        "      context: ./backend\n  frontend:\n    build:\n      context: ./frontend\n"
        "      dockerfile: Dockerfile\n"),
    ".devcontainer/Dockerfile": "FROM mcr.microsoft.com/devcontainers/base\n",
    ".github/workflows/test-backend.yml": (
        "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    defaults:\n      run:\n"
        "        working-directory: backend\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: docker compose up -d db\n      - run: uv sync\n"
        "      - run: uv run pytest --cov=app\n"),
    ".github/workflows/playwright.yml": (
        "on: [push]\njobs:\n  e2e:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: pnpm exec playwright test\n"
        "        working-directory: frontend\n"),
}, truth={
    "default_branch": "main",
    "shared_paths": [],
    "services": {
        "backend": _svc("backend", "python", "uv", "3.10", "uv run pytest --cov=app",
                        ("backend/Dockerfile", "backend"), lint="uv run ruff check .",
                        typecheck="uv run mypy ."),
        "frontend": _svc("frontend", "node", "pnpm", "22", "pnpm test",
                         ("frontend/Dockerfile", "frontend"), lint="pnpm lint"),
    },
})

# --- a small Rust web service with a Postgres-backed test suite -----------------------------

RUST = Shape("rustsvc", origin_head="main", files={
    "Cargo.toml": ("[package]\nname = \"zero2prod\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
                   "[dependencies]\nactix-web = \"4\"\nsqlx = \"0.8\"\n"),
    "Cargo.lock": "version = 3\n",
    "rust-toolchain.toml": "[toolchain]\nchannel = \"1.79.0\"\ncomponents = [\"clippy\"]\n",
    "src/main.rs": "fn main() {}\n",
    "src/lib.rs": "\n",
    "tests/api/health_check.rs": "#[test]\nfn ok() {}\n",
    "migrations/20240101000000_create_subscriptions.sql": "CREATE TABLE s (id uuid);\n",
    "configuration/base.yaml": "application:\n  port: 8000\n",
    "scripts/init_db.sh": "#!/bin/sh\n",
    "Dockerfile": ("FROM lukemathwalker/cargo-chef:latest-rust-1.79.0 AS chef\nWORKDIR /app\n"
                   "COPY . .\nRUN cargo build --release\n"),
    ".github/workflows/general.yml": (
        "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: SKIP_DOCKER=true ./scripts/init_db.sh\n"
        "      - run: cargo test\n      - run: cargo clippy -- -D warnings\n"),
}, truth={
    "default_branch": "main",
    "shared_paths": [],
    "services": {
        "zero2prod": _svc(".", "rust", "cargo", "1.79.0", "cargo test", ("Dockerfile", "."),
                          lint="cargo clippy -- -D warnings"),
    },
})

# --- what to leave out: a docs site, config packages, examples, templates, fixtures ---------

LEAVE_OUT = Shape("kit", branch="trunk", files={
    "package.json": _json({"name": "kit", "private": True,
                           "workspaces": ["apps/*", "packages/*"], "engines": {"node": ">=18.17"},
                           "devDependencies": {"prettier": "3.3.0"}}),
    "yarn.lock": "__metadata:\n  version: 8\n",
    ".yarnrc.yml": "nodeLinker: node-modules\n",
    "apps/server/package.json": _json({"name": "server", "scripts": {
        "start": "node src/index.js", "test": "node --test"}}),
    "apps/server/src/index.js": "console.log('server')\n",
    "apps/server/Dockerfile": "FROM node:18\nCOPY package.json ./\nCOPY src ./src\n",
    "apps/server/test/fixtures/broken/Dockerfile": "FROM scratch\n",
    "apps/server/__fixtures__/app/package.json": _json({"name": "fixture-app"}),
    "apps/docs/package.json": _json({"name": "docs", "scripts": {"start": "docusaurus start"},
                                     "dependencies": {"@docusaurus/core": "3.5.0"}}),
    "apps/docs/docusaurus.config.js": "module.exports = {}\n",
    "packages/eslint-config-kit/package.json": _json({"name": "eslint-config-kit"}),
    "packages/eslint-config-kit/index.js": "module.exports = {}\n",
    "packages/tsconfig/package.json": _json({"name": "@kit/tsconfig"}),
    "packages/tsconfig/base.json": "{}\n",
    "packages/tailwind-preset/package.json": _json({"name": "@kit/tailwind-preset",
                                                    "main": "preset.js"}),
    "packages/tailwind-preset/preset.js": "module.exports = {}\n",
    "packages/create-kit/package.json": _json({"name": "create-kit", "bin": "index.js",
                                               "scripts": {"test": "node --test"}}),
    "packages/create-kit/index.js": "console.log('create')\n",
    "packages/create-kit/templates/api/package.json": _json({"name": "{{name}}-api"}),
    "packages/create-kit/templates/api/Dockerfile": "FROM node:18\n",
    "examples/basic/package.json": _json({"name": "basic", "scripts": {"start": "node ."}}),
    "examples/basic/Dockerfile": "FROM node:18\n",
    "mkdocs-site/mkdocs.yml": "site_name: kit\n",
    "mkdocs-site/requirements.txt": "mkdocs==1.6.0\n",
    ".devcontainer/Dockerfile": "FROM mcr.microsoft.com/devcontainers/javascript-node\n",
    ".docker/proxy/Dockerfile": "FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n",
    ".docker/proxy/nginx.conf": "events {}\n",
}, truth={
    "default_branch": "trunk",
    "shared_paths": ["yarn.lock"],
    "services": {
        "server": _svc("apps/server", "node", "yarn", "18.17", "yarn test",
                       ("apps/server/Dockerfile", "apps/server")),
        "create-kit": _svc("packages/create-kit", "node", "yarn", "18.17", "yarn test", None),
        "proxy": _svc(".docker/proxy", None, None, None, None,
                      (".docker/proxy/Dockerfile", ".docker/proxy")),
    },
})

SHAPES = {s.name: s for s in (TURBO, GO_SERVER, FULLSTACK, RUST, LEAVE_OUT)}

# --- two shapes written after the detector was done, before looking at its answers. Their
# first scores (platform 93.3%: a matrix `working-directory`; shop 81.8%: `.tool-versions`,
# Gradle's Java toolchain, `python manage.py test`) showed gaps that were then fixed. -------

BLIND = Shape("platform", origin_head="develop", branch="develop", files={
    "go.work": "go 1.23.1\n\nuse (\n\t./services/auth\n\t./services/billing\n\t./pkg/shared\n)\n",
    "go.work.sum": "\n",
    "services/auth/go.mod": "module example.com/platform/auth\n\ngo 1.23.1\n",
    "services/auth/main.go": "package main\n\nfunc main() {}\n",
    "services/auth/Dockerfile": (
        "FROM golang:1.23 AS build\nWORKDIR /src\nCOPY go.work go.work.sum ./\n"
        "COPY pkg ./pkg\nCOPY services/auth ./services/auth\n"
        "RUN go build -o /auth ./services/auth\n"),
    "services/billing/go.mod": "module example.com/platform/billing\n\ngo 1.23.1\n",
    "services/billing/cmd/billing/main.go": "package main\n\nfunc main() {}\n",
    "services/billing/internal/ledger/ledger.go": "package ledger\n",
    "pkg/shared/go.mod": "module example.com/platform/shared\n\ngo 1.23.1\n",
    "pkg/shared/shared.go": "package shared\n",
    "ml/pyproject.toml": ("[tool.poetry]\nname = \"ml\"\nversion = \"0.1.0\"\n\n"
                          "[tool.poetry.dependencies]\npython = \"^3.11\"\n"),
    "ml/poetry.lock": "# This file is automatically @generated by Poetry\n",
    "ml/.python-version": "3.11.9\n",
    "ml/Makefile": "lint:\n\truff check .\n\ntest:\n\tpoetry run pytest -q\n",
    "ml/ml/__init__.py": "\n",
    "deploy/docker/ml.Dockerfile": ("FROM python:3.11-slim\nWORKDIR /app\n"
                                    "COPY ml/pyproject.toml ml/poetry.lock ./\nCOPY ml/ml ./ml\n"),
    "web/package.json": _json({"name": "web", "engines": {"node": "^20.9.0"},
                               "scripts": {"start": "next start", "test": "jest"}}),
    "web/yarn.lock": "# THIS IS AN AUTOGENERATED FILE.\n# yarn lockfile v1\n",
    "web/pages/index.js": "export default function Home() { return null }\n",
    "web/Dockerfile": "FROM node:20\nCOPY package.json yarn.lock ./\nCOPY . .\n",
    ".github/workflows/go.yml": (
        "on: [push]\njobs:\n  test:\n    strategy:\n      matrix:\n"
        "        dir: [services/auth, services/billing, pkg/shared]\n"
        "    runs-on: ubuntu-latest\n    defaults:\n      run:\n"
        "        working-directory: ${{ matrix.dir }}\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: go test ./...\n"),
}, truth={
    "default_branch": "develop",
    "shared_paths": ["pkg/shared"],
    "services": {
        "auth": _svc("services/auth", "go", "go", "1.23.1", "go test ./...",
                     ("services/auth/Dockerfile", ".")),
        "billing": _svc("services/billing", "go", "go", "1.23.1", "go test ./...", None),
        "ml": _svc("ml", "python", "poetry", "3.11.9", "make test",
                   ("deploy/docker/ml.Dockerfile", "."), lint="make lint"),
        "web": _svc("web", "node", "yarn", "20.9.0", "yarn test", ("web/Dockerfile", "web")),
    },
})

SHAPES["platform"] = BLIND

BLIND_2 = Shape("shop", origin_head="main", branch="feature/checkout", files={
    ".tool-versions": "python 3.11.6\nnodejs 20.10.0\n",
    "backend/manage.py": "import django\n",
    "backend/requirements.txt": "django==5.0.6\npsycopg==3.1.19\n",
    "backend/requirements-dev.txt": "-r requirements.txt\ncoverage==7.5.0\n",
    "backend/shop/settings.py": "DEBUG = False\n",
    "backend/orders/migrations/__init__.py": "",
    "backend/orders/migrations/0001_initial.py": "\n",
    "backend/Dockerfile": ("FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
                           "RUN pip install -r requirements.txt\nCOPY . .\n"),
    "frontend/package.json": _json({"name": "shop-frontend", "private": True, "scripts": {
        "start": "react-scripts start", "build": "react-scripts build",
        "test": "react-scripts test"}}),
    "frontend/package-lock.json": "{}\n",
    "frontend/src/App.js": "export default function App() { return null }\n",
    "frontend/Dockerfile": ("FROM node:20 AS build\nWORKDIR /app\nCOPY package*.json ./\n"
                            "RUN npm ci\nCOPY . .\nRUN npm run build\n"),
    "inventory/settings.gradle": "rootProject.name = 'inventory'\n",
    "inventory/build.gradle": ("plugins { id 'java' }\njava { toolchain { languageVersion = "
                               "JavaLanguageVersion.of(21) } }\n"),
    "inventory/gradlew": "#!/bin/sh\n",
    "inventory/src/main/java/App.java": "class App {}\n",
    "charts/shop/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    "docs/mkdocs.yml": "site_name: shop\n",
    ".github/workflows/ci.yml": (
        "on: [push, pull_request]\njobs:\n  backend:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: pip install -r requirements-dev.txt\n"
        "        working-directory: backend\n      - run: python manage.py test\n"
        "        working-directory: backend\n  frontend:\n    runs-on: ubuntu-latest\n"
        "    defaults:\n      run:\n        working-directory: frontend\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: npm ci\n"
        "      - run: npm test -- --watchAll=false\n  inventory:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n      - run: ./gradlew test\n"
        "        working-directory: inventory\n"),
}, truth={
    "default_branch": "main",
    "shared_paths": [],
    "services": {
        "backend": _svc("backend", "python", "pip", "3.11.6", "python manage.py test",
                        ("backend/Dockerfile", "backend")),
        "frontend": _svc("frontend", "node", "npm", "20.10.0", "npm test -- --watchAll=false",
                         ("frontend/Dockerfile", "frontend")),
        "inventory": _svc("inventory", "java", "gradle", "21", "./gradlew test", None),
    },
})

SHAPES["shop"] = BLIND_2
