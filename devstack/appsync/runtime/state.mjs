// Per-invocation state of the handler being run: the worker runs one handler at a time.
export const invocation = {
  authType: null,
  appendedErrors: [],
};

export function begin(authType) {
  invocation.authType = authType;
  invocation.appendedErrors = [];
}

/** Thrown by util.error: ends the handler with a GraphQL error. */
export class ResolverError extends Error {
  constructor(message, type, data, errorInfo) {
    super(message);
    this.appsync = { message, errorType: type ?? null, data: data ?? null, errorInfo: errorInfo ?? null };
  }
}

/** Thrown by runtime.earlyReturn: ends the handler with a result. */
export class EarlyReturn extends Error {
  constructor(value) {
    super('earlyReturn');
    this.value = value;
  }
}

/** An object whose unknown members throw: a resolver never silently gets `undefined` for a missing util. */
export function strict(name, members) {
  return new Proxy(members, {
    get(target, key) {
      if (typeof key === 'symbol' || key in target || key === 'then' || key === 'toJSON') {
        return target[key];
      }
      throw new Error(`${name}.${String(key)} is not implemented by the local AppSync runtime (devstack/appsync/README.md)`);
    },
  });
}

export function notImplemented(name) {
  return () => {
    throw new Error(`${name} is not implemented by the local AppSync runtime (devstack/appsync/README.md)`);
  };
}
