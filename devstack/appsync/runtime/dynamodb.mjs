// `@aws-appsync/utils/dynamodb`: helpers that build DynamoDB request objects. Implemented: get, put,
// remove, query (key conditions), scan, without `condition`/`filter` objects; the rest throws.
import { notImplemented } from './state.mjs';
import { util } from './utils.mjs';

function refuse(name, options, keys) {
  for (const key of keys) {
    if (options[key] !== undefined) {
      throw new Error(`dynamodb.${name}: option ${key} is not implemented by the local AppSync runtime`);
    }
  }
}

export function get({ key, consistentRead, projection, ...rest }) {
  refuse('get', rest, Object.keys(rest));
  refuse('get', { projection }, ['projection']);
  return { operation: 'GetItem', key: util.dynamodb.toMapValues(key), consistentRead: Boolean(consistentRead) };
}

export function put({ key, item, ...rest }) {
  refuse('put', rest, Object.keys(rest));
  return { operation: 'PutItem', key: util.dynamodb.toMapValues(key), attributeValues: util.dynamodb.toMapValues(item) };
}

export function remove({ key, ...rest }) {
  refuse('remove', rest, Object.keys(rest));
  return { operation: 'DeleteItem', key: util.dynamodb.toMapValues(key) };
}

const KEY_OPERATORS = { eq: '=', lt: '<', le: '<=', gt: '>', ge: '>=' };

function keyCondition(query) {
  const parts = [];
  const names = {};
  const values = {};
  Object.entries(query).forEach(([attribute, condition], index) => {
    const name = `#k${index}`;
    names[name] = attribute;
    const [[operator, operand]] = Object.entries(condition);
    if (KEY_OPERATORS[operator]) {
      parts.push(`${name} ${KEY_OPERATORS[operator]} :k${index}`);
      values[`:k${index}`] = util.dynamodb.toDynamoDB(operand);
    } else if (operator === 'beginsWith') {
      parts.push(`begins_with(${name}, :k${index})`);
      values[`:k${index}`] = util.dynamodb.toDynamoDB(operand);
    } else if (operator === 'between') {
      parts.push(`${name} BETWEEN :k${index}a AND :k${index}b`);
      values[`:k${index}a`] = util.dynamodb.toDynamoDB(operand[0]);
      values[`:k${index}b`] = util.dynamodb.toDynamoDB(operand[1]);
    } else {
      throw new Error(`dynamodb.query: key operator ${operator} is not supported`);
    }
  });
  return { expression: parts.join(' AND '), expressionNames: names, expressionValues: values };
}

export function query({ query: keys, index, nextToken, limit, scanIndexForward, consistentRead, ...rest }) {
  refuse('query', rest, Object.keys(rest));
  const request = { operation: 'Query', query: keyCondition(keys) };
  Object.entries({ index, nextToken, limit, scanIndexForward, consistentRead }).forEach(([name, value]) => {
    if (value !== undefined) request[name] = value;
  });
  return request;
}

export function scan({ index, nextToken, limit, consistentRead, ...rest }) {
  refuse('scan', rest, Object.keys(rest));
  const request = { operation: 'Scan' };
  Object.entries({ index, nextToken, limit, consistentRead }).forEach(([name, value]) => {
    if (value !== undefined) request[name] = value;
  });
  return request;
}

export const update = notImplemented('dynamodb.update');
export const sync = notImplemented('dynamodb.sync');
export const operations = new Proxy(
  {},
  {
    get(_target, key) {
      if (typeof key === 'symbol' || key === 'then') return undefined;
      throw new Error(`dynamodb.operations.${String(key)} is not implemented by the local AppSync runtime`);
    },
  },
);
