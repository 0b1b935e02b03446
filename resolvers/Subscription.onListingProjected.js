/**
 * onListingProjected (NONE data source): runs when a client subscribes, not per message. A user may
 * only follow their own listings' signals: `owner` is required and must be the caller's sub, or the
 * subscription is refused (UnauthorizedError). IAM callers (backends) may follow any listing.
 * The `@aws_*` directives already keep API-key callers out (the signal reveals owners' activity).
 */
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  if (util.authType() !== 'IAM Authorization' && ctx.args.owner !== ctx.identity.sub) {
    util.error('onListingProjected: owner must be your own sub', 'UnauthorizedError');
  }
  return { payload: null };
}

export function response(ctx) {
  return null;
}
