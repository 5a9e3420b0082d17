// The projen side of benchmarks/bench.py: a .projenrc.js that synthesises N GitHub
// workflows, each like one service's CI in a monorepo (unit tests, then an image build),
// with SHA-pinned actions, read-only permissions and a timeout on every job.
//
// bench.py copies this file into a temp folder as .projenrc.js and runs it with
//   PROJEN_MODULE=<benchmarks/.projen/node_modules/projen> BENCH_WORKFLOWS=N node .projenrc.js
// (projen's synth itself), and through projen's own CLI (`projen`, whose default task
// runs `node .projenrc.js`). API: projen's lib/project.d.ts, lib/github/github.d.ts,
// lib/github/workflows.d.ts and lib/github/workflows-model.d.ts.
const { Project, github } = require(process.env.PROJEN_MODULE || "projen");

const count = parseInt(process.env.BENCH_WORKFLOWS || "1", 10);
const SHA = "3d3c42e5aac5ba805825da76410c181273ba90b1"; // any 40-hex ref: not resolved
const READ = github.workflows.JobPermission.READ;

const project = new Project({ name: "bench", outdir: process.cwd() });
// The projen CLI runs the default task; make it re-run this file, as a JS project's does.
project.defaultTask.exec("node .projenrc.js");
const gh = new github.GitHub(project, { mergify: false, pullRequestLint: false, workflows: true });

for (let i = 0; i < count; i++) {
  const name = `svc${String(i).padStart(3, "0")}`;
  const path = `services/${name}`;
  const wf = gh.addWorkflow(`ci-${name}`);
  wf.on({
    pullRequest: { branches: ["main"], paths: [`${path}/**`] },
    mergeGroup: {},
    push: { branches: ["main"] },
  });
  const checkout = { name: "Check out", uses: `actions/checkout@${SHA}`, with: { "persist-credentials": false } };
  wf.addJobs({
    test: {
      name: `Unit tests (${name})`,
      runsOn: ["ubuntu-24.04"],
      timeoutMinutes: 30,
      permissions: { contents: READ },
      strategy: { failFast: false, matrix: { domain: { shard: [1, 2] } } },
      steps: [
        checkout,
        { name: "Set up Python", uses: `actions/setup-python@${SHA}`, with: { "python-version": "3.12", cache: "pip" } },
        { name: "Install", run: "python -m pip install -r requirements.txt", workingDirectory: path },
        {
          name: "Test", run: "python -m pytest -q", workingDirectory: path,
          env: { SHARD_INDEX: "${{ matrix.shard }}", SHARD_TOTAL: "2" },
        },
      ],
    },
    image: {
      name: `Image (${name})`,
      runsOn: ["ubuntu-24.04"],
      needs: ["test"],
      timeoutMinutes: 30,
      permissions: { contents: READ },
      steps: [
        checkout,
        { name: "Set up Buildx", uses: `docker/setup-buildx-action@${SHA}` },
        { name: "Build", uses: `docker/build-push-action@${SHA}`, with: { context: path, push: false } },
      ],
    },
  });
}

project.synth();
