/**
 * publishListingProjected (NONE data source, IAM only): the projector's projection signal. Nothing is
 * stored; the input is returned as the result so that `@aws_subscribe` fans it out to onListingProjected.
 * The projector sends one aliased field per listing in one request (projector/signal.py).
 */
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return { payload: ctx.args.input };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}
