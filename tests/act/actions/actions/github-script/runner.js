// Runs a github-script `script` as src/async-function.ts does (an AsyncFunction of the
// action's arguments), with a small @actions/core and an API proxy that records calls.
'use strict'
const fs = require('fs')
const crypto = require('crypto')

const calls = []
let failed = false
const append = (file, name, value) => {
  const delimiter = `ghadelimiter_${crypto.randomUUID()}`
  fs.appendFileSync(process.env[file], `${name}<<${delimiter}\n${value}\n${delimiter}\n`)
}
const core = {
  getInput: name => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '').trim(),
  setOutput: (name, value) => append('GITHUB_OUTPUT', name, typeof value === 'string' ? value : JSON.stringify(value)),
  exportVariable: (name, value) => { process.env[name] = String(value); append('GITHUB_ENV', name, String(value)) },
  addPath: dir => fs.appendFileSync(process.env.GITHUB_PATH, `${dir}\n`),
  setSecret: value => console.log(`::add-mask::${value}`),
  info: message => console.log(message),
  debug: message => console.log(`::debug::${message}`),
  notice: message => console.log(`::notice::${message}`),
  warning: message => console.log(`::warning::${message}`),
  error: message => console.log(`::error::${message}`),
  setFailed: message => { failed = true; console.log(`::error::${message}`) },
  startGroup: name => console.log(`::group::${name}`),
  endGroup: () => console.log('::endgroup::'),
  summary: { addRaw () { return this }, write: async () => undefined }
}
const api = path => new Proxy(async () => undefined, {
  get: (_, key) => key === 'then' ? undefined : api([...path, String(key)]),
  apply: async () => { calls.push(path.join('.')); return { data: {}, status: 200 } }
})
const payload = JSON.parse(fs.readFileSync(process.env.GITHUB_EVENT_PATH, 'utf8') || '{}')
const [owner, repo] = (process.env.GITHUB_REPOSITORY || '/').split('/')
const context = {
  payload, eventName: process.env.GITHUB_EVENT_NAME, sha: process.env.GITHUB_SHA,
  ref: process.env.GITHUB_REF, workflow: process.env.GITHUB_WORKFLOW, action: process.env.GITHUB_ACTION,
  actor: process.env.GITHUB_ACTOR, job: process.env.GITHUB_JOB, runId: Number(process.env.GITHUB_RUN_ID),
  runNumber: Number(process.env.GITHUB_RUN_NUMBER), serverUrl: process.env.GITHUB_SERVER_URL,
  repo: { owner, repo },
  issue: { owner, repo, number: (payload.issue || payload.pull_request || payload).number }
}
const AsyncFunction = Object.getPrototypeOf(async () => null).constructor
const args = { require, __original_require__: require, github: api([]), octokit: api([]), context, core }
new AsyncFunction(...Object.keys(args), process.env.STUB_SCRIPT)(...Object.values(args))
  .then(result => {
    const encoding = process.env.STUB_ENCODING
    if (encoding !== 'json' && encoding !== 'string') {
      throw new Error('"result-encoding" must be either "string" or "json"')
    }
    core.setOutput('result', encoding === 'json' ? JSON.stringify(result) : String(result))
  })
  .catch(err => { console.error(err); core.setFailed(`Unhandled error: ${err}`) })
  .finally(() => {
    fs.writeFileSync(process.env.STUB_CALLS, JSON.stringify(calls))
    process.exitCode = failed ? 1 : 0
  })
