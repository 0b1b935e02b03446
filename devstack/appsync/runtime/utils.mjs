// The APPSYNC_JS `util`, `runtime` and `extensions` objects, as documented in the AWS AppSync resolver
// reference. What is not implemented throws (see `strict`), naming the missing function.
import { randomBytes, randomUUID } from 'node:crypto';

import { EarlyReturn, ResolverError, invocation, notImplemented, strict } from './state.mjs';

// ---- util.dynamodb: JSON values → DynamoDB typed values (numbers stay JSON numbers, as AppSync does)

function toDynamoDB(value) {
  if (value === null || value === undefined) {
    return { NULL: null };
  }
  if (typeof value === 'string') {
    return { S: value };
  }
  if (typeof value === 'number') {
    return { N: value };
  }
  if (typeof value === 'boolean') {
    return { BOOL: value };
  }
  if (Array.isArray(value)) {
    return { L: value.map(toDynamoDB) };
  }
  if (typeof value === 'object') {
    return { M: toMapValues(value) };
  }
  throw new Error(`util.dynamodb.toDynamoDB cannot convert a ${typeof value}`);
}

function toMapValues(object) {
  const out = {};
  for (const [key, value] of Object.entries(object)) {
    if (value !== undefined) {
      out[key] = toDynamoDB(value);
    }
  }
  return out;
}

const dynamodb = strict('util.dynamodb', {
  toDynamoDB,
  toMapValues,
  toString: (value) => ({ S: value }),
  toStringSet: (values) => ({ SS: values }),
  toNumber: (value) => ({ N: value }),
  toNumberSet: (values) => ({ NS: values }),
  toBinary: (value) => ({ B: value }),
  toBinarySet: (values) => ({ BS: values }),
  toBoolean: (value) => ({ BOOL: value }),
  toNull: () => ({ NULL: null }),
  toList: (values) => ({ L: values.map(toDynamoDB) }),
  toMap: (object) => ({ M: toMapValues(object) }),
  toS3Object: notImplemented('util.dynamodb.toS3Object'),
  fromS3ObjectJson: notImplemented('util.dynamodb.fromS3ObjectJson'),
});

// ---- util.time: Java-style patterns, UTC only

const UTC_NAMES = new Set([undefined, null, 'UTC', 'Etc/UTC', 'GMT', 'Z']);

function pad(value, width) {
  return String(value).padStart(width, '0');
}

function formatEpochMillis(millis, pattern, timezone) {
  if (!UTC_NAMES.has(timezone)) {
    throw new Error(`util.time: time zone ${timezone} is not implemented by the local AppSync runtime (UTC only)`);
  }
  const d = new Date(millis);
  const fields = {
    yyyy: () => pad(d.getUTCFullYear(), 4),
    yy: () => pad(d.getUTCFullYear() % 100, 2),
    MM: () => pad(d.getUTCMonth() + 1, 2),
    dd: () => pad(d.getUTCDate(), 2),
    HH: () => pad(d.getUTCHours(), 2),
    mm: () => pad(d.getUTCMinutes(), 2),
    ss: () => pad(d.getUTCSeconds(), 2),
    SSS: () => pad(d.getUTCMilliseconds(), 3),
    Z: () => '+0000',
    XXX: () => 'Z',
  };
  // Quoted text ('T') is literal; letters outside the table are refused rather than guessed.
  return pattern.replace(/'([^']*)'|yyyy|yy|MM|dd|HH|mm|ss|SSS|XXX|Z|[A-Za-z]/g, (token, quoted) => {
    if (quoted !== undefined) {
      return quoted;
    }
    if (fields[token]) {
      return fields[token]();
    }
    throw new Error(`util.time: pattern letter ${token} is not implemented by the local AppSync runtime`);
  });
}

function parseISO8601ToEpochMilliSeconds(text) {
  const millis = Date.parse(text);
  if (Number.isNaN(millis)) {
    throw new Error(`util.time.parseISO8601ToEpochMilliSeconds: not an ISO-8601 date-time: ${text}`);
  }
  return millis;
}

const time = strict('util.time', {
  nowISO8601: () => new Date().toISOString(),
  nowEpochSeconds: () => Math.floor(Date.now() / 1000),
  nowEpochMilliSeconds: () => Date.now(),
  nowFormatted: (pattern, timezone) => formatEpochMillis(Date.now(), pattern, timezone),
  parseISO8601ToEpochMilliSeconds,
  epochMilliSecondsToSeconds: (millis) => Math.floor(millis / 1000),
  epochMilliSecondsToISO8601: (millis) => new Date(millis).toISOString(),
  epochMilliSecondsToFormatted: (millis, pattern, timezone) => formatEpochMillis(millis, pattern, timezone),
  parseFormattedToEpochMilliSeconds: notImplemented('util.time.parseFormattedToEpochMilliSeconds'),
});

// ---- ids

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KSUID_EPOCH = 1400000000;

function autoUlid() {
  let now = Date.now();
  let timePart = '';
  for (let i = 0; i < 10; i += 1) {
    timePart = CROCKFORD[now % 32] + timePart;
    now = Math.floor(now / 32);
  }
  const random = [...randomBytes(16)].map((byte) => CROCKFORD[byte % 32]).join('');
  return timePart + random;
}

function autoKsuid() {
  const payload = Buffer.concat([Buffer.alloc(4), randomBytes(16)]);
  payload.writeUInt32BE(Math.floor(Date.now() / 1000) - KSUID_EPOCH, 0);
  let number = BigInt(`0x${payload.toString('hex')}`);
  let text = '';
  while (number > 0n) {
    text = BASE62[Number(number % 62n)] + text;
    number /= 62n;
  }
  return text.padStart(27, '0');
}

// ---- type checks (AppSync mirrors Java semantics: lists are arrays, maps are plain objects)

const isNull = (value) => value === null || value === undefined;
const isMap = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

function typeOf(value) {
  if (isNull(value)) return 'Null';
  if (typeof value === 'number') return 'Number';
  if (typeof value === 'string') return 'String';
  if (typeof value === 'boolean') return 'Boolean';
  if (Array.isArray(value)) return 'List';
  return 'Map';
}

function formEncode(text) {
  // Java's URLEncoder (application/x-www-form-urlencoded), which AppSync uses.
  return encodeURIComponent(text)
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export const util = strict('util', {
  error(message, errorType, data, errorInfo) {
    throw new ResolverError(message, errorType, data, errorInfo);
  },
  appendError(message, errorType, data, errorInfo) {
    invocation.appendedErrors.push({
      message,
      errorType: errorType ?? null,
      data: data ?? null,
      errorInfo: errorInfo ?? null,
    });
  },
  unauthorized() {
    throw new ResolverError(invocation.unauthorizedMessage ?? 'Not Authorized', 'Unauthorized');
  },
  authType: () => invocation.authType,
  autoId: () => randomUUID(),
  autoUlid,
  autoKsuid,
  base64Encode: (text) => Buffer.from(text, 'utf8').toString('base64'),
  base64Decode: (text) => Buffer.from(text, 'base64').toString('utf8'),
  urlEncode: formEncode,
  urlDecode: (text) => decodeURIComponent(text.replace(/\+/g, ' ')),
  matches: (pattern, text) => new RegExp(`^(?:${pattern})$`).test(text),
  isNull,
  isNullOrEmpty: (value) => isNull(value) || value === '' || (Array.isArray(value) && value.length === 0),
  isNullOrBlank: (value) => isNull(value) || (typeof value === 'string' && value.trim() === ''),
  defaultIfNull: (value, fallback) => (isNull(value) ? fallback : value),
  defaultIfNullOrEmpty: (value, fallback) => (isNull(value) || value === '' ? fallback : value),
  defaultIfNullOrBlank: (value, fallback) =>
    isNull(value) || (typeof value === 'string' && value.trim() === '') ? fallback : value,
  isString: (value) => typeof value === 'string',
  isNumber: (value) => typeof value === 'number',
  isBoolean: (value) => typeof value === 'boolean',
  isList: (value) => Array.isArray(value),
  isMap,
  typeOf,
  dynamodb,
  time,
  str: strict('util.str', {
    toUpper: (text) => text.toUpperCase(),
    toLower: (text) => text.toLowerCase(),
    toReplace: (text, find, replacement) => text.split(find).join(replacement),
    normalize: (text, form) => text.normalize(form),
  }),
  math: strict('util.math', {
    roundNum: (value) => Math.round(value),
    minVal: (a, b) => Math.min(a, b),
    maxVal: (a, b) => Math.max(a, b),
    randomDouble: () => Math.random(),
    randomWithinRange: (low, high) => low + Math.floor(Math.random() * (high - low + 1)),
  }),
  transform: strict('util.transform', {}),
  http: strict('util.http', {}),
});

export const runtime = strict('runtime', {
  earlyReturn(value) {
    throw new EarlyReturn(value);
  },
});

export const extensions = strict('extensions', {});
