/**
 * Validates createListing/updateListing input and decides who the owner is (NONE data source).
 *
 * Every problem is reported at once in one ValidationError (`errorInfo.problems`), before anything is
 * written. Leaves the checked input in `ctx.stash.input` and the caller in `ctx.stash.actor`.
 */
import { util } from '@aws-appsync/utils';

const ID = '^[A-Za-z0-9_-]{1,64}$';
const VERSION = '^[1-9][0-9]{0,15}$';
const CURRENCY = '^[A-Z]{3}$';

function callerOf(ctx) {
  // IAM callers are backends (seed, ops); user-pool callers are people, identified by their `sub`.
  if (util.authType() === 'IAM Authorization') {
    return { backend: true, id: null };
  }
  return { backend: false, id: ctx.identity.sub };
}

function checkText(problems, name, value, min, max) {
  if (value === undefined || value === null) {
    return;
  }
  const length = value.trim().length;
  if (length < min || value.length > max) {
    problems.push(`${name} must be ${min}-${max} characters (got ${value.length})`);
  }
}

function checkListing(input, creating, caller, problems) {
  if (creating && input.id !== undefined && input.id !== null && !util.matches(ID, input.id)) {
    problems.push('id must be 1-64 characters of A-Z, a-z, 0-9, _ or -');
  }
  checkText(problems, 'title', input.title, 1, 200);
  checkText(problems, 'description', input.description, 0, 5000);
  checkText(problems, 'city', input.city, 1, 100);
  if (input.tags !== undefined && input.tags !== null) {
    if (input.tags.length > 20) {
      problems.push(`tags must hold at most 20 tags (got ${input.tags.length})`);
    }
    input.tags.forEach((tag) => checkText(problems, 'each tag', tag, 1, 40));
  }
  if (input.price !== undefined && input.price !== null) {
    const cents = input.price * 100;
    if (input.price < 0 || input.price > 1e12 || Math.abs(cents - Math.round(cents)) > 1e-6) {
      problems.push('price must be a number from 0 to 1e12 with at most 2 decimals');
    }
  }
  if (input.currency !== undefined && input.currency !== null && !util.matches(CURRENCY, input.currency)) {
    problems.push('currency must be an ISO 4217 code of 3 upper-case letters');
  }
  if (input.location !== undefined && input.location !== null) {
    const { lat, lon } = input.location;
    if (lat < -90 || lat > 90 || lon < -180 || lon > 180) {
      problems.push('location must have lat in [-90, 90] and lon in [-180, 180]');
    }
  }
  if (creating && caller.backend && !input.owner) {
    problems.push('owner is required when a backend (IAM) creates a listing');
  }
  if (input.owner !== undefined && input.owner !== null) {
    checkText(problems, 'owner', input.owner, 1, 128);
  }
}

function checkUpdate(input, problems) {
  if (!util.matches(VERSION, input.expectedVersion) || Number(input.expectedVersion) > 9007199254740991) {
    problems.push('expectedVersion must be a version string as returned by the API');
  }
  const fields = ['title', 'description', 'category', 'tags', 'price', 'currency', 'location', 'city', 'status'];
  if (!fields.some((name) => input[name] !== undefined && input[name] !== null)) {
    problems.push(`an update must change at least one of: ${fields.join(', ')}`);
  }
}

export function request(ctx) {
  const creating = ctx.info.fieldName === 'createListing';
  const input = ctx.args.input;
  const caller = callerOf(ctx);
  if (creating && !caller.backend && input.owner && input.owner !== caller.id) {
    util.error('Only backends may create a listing for another owner', 'UnauthorizedError');
  }
  const problems = [];
  checkListing(input, creating, caller, problems);
  if (!creating) {
    checkUpdate(input, problems);
  }
  if (problems.length > 0) {
    util.error(`Invalid ${ctx.info.fieldName} input: ${problems.join('; ')}`, 'ValidationError', null, {
      problems,
    });
  }
  ctx.stash.actor = caller;
  ctx.stash.input = input;
  return { payload: null };
}

export function response(ctx) {
  return ctx.result;
}
