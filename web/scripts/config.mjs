#!/usr/bin/env node
// Writes the page's config.json from a stack's outputs (docs/design.md §6), so the same build talks to
// the local stack or to AWS with no code change:
//
//   node scripts/config.mjs                                   # the local stack's ../.dev/stack.json
//   node scripts/config.mjs --stack path/to/stack.json --user alice --user bob
//   node scripts/config.mjs --terraform ../terraform/envs/dev # `terraform output -json` of a deployed stack
//   terraform output -json | node scripts/config.mjs --stack -
//
// A local stack's file has `token_command`: it is run once per --user (default alice and bob) and the
// tokens go into config.json as `local_users`, which the page offers at sign-in. On AWS users sign in with
// Cognito (auth.user_pool_id / user_pool_client_id).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(web, '..');

const { values: args } = parseArgs({
  options: {
    stack: { type: 'string' },
    terraform: { type: 'string' },
    user: { type: 'string', multiple: true },
    out: { type: 'string', default: resolve(web, 'public', 'config.json') },
    help: { type: 'boolean', short: 'h' },
  },
});

function fail(message) {
  console.error(`config: ${message}`);
  process.exit(1);
}

if (args.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 14).join('\n'));
  process.exit(0);
}

function readSource() {
  if (args.terraform) {
    const text = execFileSync('terraform', [`-chdir=${args.terraform}`, 'output', '-json'], { encoding: 'utf8' });
    return { text, name: `terraform output of ${args.terraform}` };
  }
  const path = args.stack ?? resolve(repo, '.dev', 'stack.json');
  try {
    return { text: readFileSync(path === '-' ? 0 : path, 'utf8'), name: path === '-' ? 'stdin' : path };
  } catch (error) {
    fail(`cannot read ${path} (${error.code ?? error.message}): start the local stack or pass --stack/--terraform`);
  }
}

/** Terraform prints each output as {value, type, sensitive}; a stack file has plain values. */
function unwrapTerraform(values) {
  const wrapped = Object.values(values).every((v) => v && typeof v === 'object' && 'value' in v);
  return wrapped ? Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.value])) : values;
}

function mintTokens(tokenCommand, users) {
  const argv = Array.isArray(tokenCommand) ? tokenCommand : String(tokenCommand).split(/\s+/);
  return Object.fromEntries(
    users.map((user) => {
      const out = execFileSync(argv[0], [...argv.slice(1), user], { cwd: repo, encoding: 'utf8' }).trim();
      if (!out) fail(`token command printed nothing for ${user}: ${argv.join(' ')}`);
      return [user, out.split('\n').at(-1)];
    }),
  );
}

const source = readSource();
let stack;
try {
  stack = unwrapTerraform(JSON.parse(source.text));
} catch (error) {
  fail(`${source.name} is not JSON: ${error.message}`);
}
if (!stack.graphql_url || !stack.region) fail(`${source.name} lacks graphql_url or region (keys: docs/design.md §6)`);

const auth = stack.auth ?? {};
const config = {
  graphql_url: stack.graphql_url,
  region: stack.region,
  auth: {
    api_key: auth.api_key ?? null,
    user_pool_id: auth.user_pool_id ?? null,
    user_pool_client_id: auth.user_pool_client_id ?? null,
    iam: Boolean(auth.iam),
  },
};
if (stack.token_command) config.local_users = mintTokens(stack.token_command, args.user ?? ['alice', 'bob']);
else if (!auth.user_pool_id || !auth.user_pool_client_id) fail(`${source.name}: no token_command and no Cognito user pool`);

mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, `${JSON.stringify(config, null, 2)}\n`);
console.log(`config: wrote ${args.out} for ${config.graphql_url} (${config.local_users ? 'local tokens' : 'Cognito'})`);
