/**
 * The pipeline resolver every field runs through: its before step authorizes the caller, the functions
 * do the work, and the resolver returns what the last function returned (`ctx.prev.result`).
 *
 * The caller check lives here, not in a function each manifest entry must remember to list, so a field
 * added to the manifest as a pipeline is guarded from its first deployment (tests/api/test_schema_contract.py
 * refuses `@aws_iam` fields that do not run through this file).
 */
import { util } from '@aws-appsync/utils';

// `arn:<partition>:sts::<account>:assumed-role/<role name>/<session>`: AppSync reports an assumed role
// without its path, so account and role name are what an allow-list can match (FACTS: AppSync identity).
const ASSUMED_ROLE_ARN = '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[A-Za-z0-9+=,.@_-]{1,64}/[A-Za-z0-9+=,.@_-]{2,64}$';

/**
 * Who may call: user-pool and API-key callers (their field directives already decided), and IAM callers
 * only as one of the backend roles of the IAM_CALLER_ROLES environment variable (space-separated
 * `<account>:<role name>`, from the api module's `iam_caller_role_arns` and `publisher_role_arns`; the
 * local endpoint sets its own). Credentials from a
 * Cognito identity pool are IAM too, but they belong to people, not backends: refused whatever the role.
 */
export function authorizeCaller(ctx) {
  if (util.authType() !== 'IAM Authorization') {
    return;
  }
  const identity = ctx.identity || {};
  if (identity.cognitoIdentityPoolId) {
    util.unauthorized();
  }
  const arn = identity.userArn || '';
  if (!util.matches(ASSUMED_ROLE_ARN, arn)) {
    util.unauthorized();
  }
  const fields = arn.split(':');
  const caller = `${fields[4]}:${fields[5].split('/')[1]}`;
  const allowed = `${ctx.env.IAM_CALLER_ROLES || ''}`.split(' ').filter((entry) => entry !== '');
  if (!allowed.includes(caller)) {
    util.unauthorized();
  }
}

export function request(ctx) {
  authorizeCaller(ctx);
  return {};
}

export function response(ctx) {
  return ctx.prev.result;
}
