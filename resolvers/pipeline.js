/**
 * The pipeline resolver shared by every mutation: the functions do the work; the resolver returns
 * what the last function returned (`ctx.prev.result`).
 */

export function request() {
  return {};
}

export function response(ctx) {
  return ctx.prev.result;
}
