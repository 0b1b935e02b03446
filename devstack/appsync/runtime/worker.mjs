// The long-lived resolver worker: one JSON request per stdin line, one JSON answer per stdout line.
//
//   request: {"id", "file": absolute path, "handler": "request"|"response", "ctx": {...}, "authType",
//             "unauthorizedMessage"}
//   answer:  {"id", "outcome": "value"|"error"|"earlyReturn"|"crash", "value", "error", "stash",
//             "appendedErrors", "logs"}
//
// Resolver files run unmodified; `@aws-appsync/utils` resolves to ./utils.mjs through ./hooks.mjs.
// console output goes to stderr, so stdout carries only answers.
import { statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

import { EarlyReturn, ResolverError, begin, invocation } from './state.mjs';

const out = process.stdout;
console.log = (...args) => process.stderr.write(`[resolver] ${args.map(String).join(' ')}\n`);
console.info = console.log;
console.debug = console.log;
console.warn = console.log;
console.error = console.log;

const modules = new Map();

// Keyed by modification time, so an edited resolver file is picked up without a restart.
async function load(file) {
  const version = `${pathToFileURL(file).href}?mtime=${statSync(file).mtimeMs}`;
  if (!modules.has(version)) {
    modules.set(version, await import(version));
  }
  return modules.get(version);
}

function withContext(raw) {
  const ctx = { ...raw, stash: raw.stash ?? {}, prev: raw.prev ?? {}, env: raw.env ?? {} };
  ctx.args = ctx.arguments;
  return ctx;
}

async function run(message) {
  begin(message.authType ?? null);
  invocation.unauthorizedMessage = message.unauthorizedMessage ?? null;
  const ctx = withContext(message.ctx);
  const answer = { id: message.id };
  try {
    const module = await load(message.file);
    const handler = module[message.handler];
    if (typeof handler !== 'function') {
      throw new Error(`${message.file} does not export a ${message.handler} function`);
    }
    answer.outcome = 'value';
    answer.value = handler(ctx) ?? null;
  } catch (error) {
    if (error instanceof ResolverError) {
      answer.outcome = 'error';
      answer.error = error.appsync;
    } else if (error instanceof EarlyReturn) {
      answer.outcome = 'earlyReturn';
      answer.value = error.value ?? null;
    } else {
      answer.outcome = 'crash';
      answer.error = { message: String(error && error.message ? error.message : error), stack: String(error && error.stack) };
    }
  }
  answer.stash = ctx.stash;
  answer.appendedErrors = invocation.appendedErrors;
  return answer;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    answer = await run(JSON.parse(line));
  } catch (error) {
    answer = { id: null, outcome: 'crash', error: { message: `worker: ${error.message}` } };
  }
  out.write(`${JSON.stringify(answer)}\n`);
}
