// The page's configuration: the stack keys of docs/design.md §6, written to config.json by
// `npm run config` from the local stack's .dev/stack.json or from Terraform outputs.

export interface StackAuth {
  api_key: string | null;
  user_pool_id: string | null;
  user_pool_client_id: string | null;
  iam: boolean;
}

export interface PageConfig {
  graphql_url: string;
  region: string;
  auth: StackAuth;
  /** Local stack only: user name → token minted by the stack's token command. */
  local_users?: Record<string, string>;
  /** How long the page waits for search to show a write before it says results may be stale (30). */
  search_catch_up_s?: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function requireString(value: unknown, key: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError(`config.json: "${key}" must be a non-empty string (run \`npm run config\`, see README)`);
  }
  return value;
}

function optionalString(value: unknown, key: string): string | null {
  return value === null || value === undefined ? null : requireString(value, key);
}

/** Checks the shape, so a wrong file fails with a message instead of a broken page. */
export function parseConfig(raw: unknown): PageConfig {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('config.json: expected a JSON object');
  const obj = raw as Record<string, unknown>;
  const auth = (obj.auth ?? {}) as Record<string, unknown>;
  const localUsers = obj.local_users as Record<string, unknown> | undefined;
  const config: PageConfig = {
    graphql_url: requireString(obj.graphql_url, 'graphql_url'),
    region: requireString(obj.region, 'region'),
    auth: {
      api_key: optionalString(auth.api_key, 'auth.api_key'),
      user_pool_id: optionalString(auth.user_pool_id, 'auth.user_pool_id'),
      user_pool_client_id: optionalString(auth.user_pool_client_id, 'auth.user_pool_client_id'),
      iam: auth.iam === true,
    },
  };
  if (localUsers !== undefined) {
    config.local_users = Object.fromEntries(
      Object.entries(localUsers).map(([user, token]) => [user, requireString(token, `local_users.${user}`)]),
    );
  }
  if (obj.search_catch_up_s !== undefined) {
    const seconds = obj.search_catch_up_s;
    if (typeof seconds !== 'number' || !(seconds > 0)) {
      throw new ConfigError('config.json: "search_catch_up_s" must be a positive number of seconds');
    }
    config.search_catch_up_s = seconds;
  }
  if (!config.local_users && !(config.auth.user_pool_id && config.auth.user_pool_client_id)) {
    throw new ConfigError('config.json: needs either local_users (local stack) or auth.user_pool_id and auth.user_pool_client_id');
  }
  return config;
}

export async function loadConfig(url = 'config.json'): Promise<PageConfig> {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) {
    throw new ConfigError(`${url}: HTTP ${response.status} (run \`npm run config\` in web/, see README)`);
  }
  return parseConfig(await response.json());
}
