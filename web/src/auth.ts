// Sign-in: local tokens on the local stack, Cognito user pools on AWS. Both reach the API through
// Amplify's `userPool` auth mode, which sends the session's access token as the Authorization header.
import { Amplify } from 'aws-amplify';
import { fetchAuthSession, signIn, signOut } from 'aws-amplify/auth';
import type { JWT, TokenProvider } from 'aws-amplify/auth';
import type { PageConfig } from './config';

export interface User {
  username: string;
  /** Cognito `sub`: the owner argument of the user's own projection signals (onListingProjected). */
  sub: string | null;
  /** The values a listing's `owner` may hold for this user: Cognito `sub` and user name. */
  identities: string[];
}

export interface Authenticator {
  readonly kind: 'local' | 'cognito';
  /** Local stack: the users the config offers; Cognito: empty (type a user name). */
  readonly knownUsers: string[];
  signIn(username: string, password: string): Promise<User>;
  signOut(): Promise<void>;
  current(): Promise<User | null>;
}

function decodeJwt(token: string): JWT {
  const part = token.split('.')[1];
  if (!part) return { toString: () => token, payload: {} };
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return { toString: () => token, payload: JSON.parse(json) as JWT['payload'] };
}

function userFromToken(jwt: JWT, fallback: string): User {
  const { payload } = jwt;
  const names = [payload.sub, payload.username, payload['cognito:username']].filter(
    (value): value is string => typeof value === 'string',
  );
  const username = (payload['cognito:username'] ?? payload.username ?? fallback) as string;
  const sub = typeof payload.sub === 'string' ? payload.sub : null;
  return { username, sub, identities: [...new Set([...names, username])] };
}

/** Local stack: the token minted by `python -m devstack.appsync token USER` (design §8). */
class LocalAuth implements Authenticator {
  readonly kind = 'local';
  private token: JWT | null = null;
  private username = '';

  constructor(private readonly tokens: Record<string, string>) {}

  get knownUsers(): string[] {
    return Object.keys(this.tokens);
  }

  readonly tokenProvider: TokenProvider = {
    getTokens: async () => (this.token ? { accessToken: this.token } : null),
  };

  async signIn(username: string): Promise<User> {
    const token = this.tokens[username];
    if (!token) throw new Error(`no local token for "${username}"; re-run npm run config with --user ${username}`);
    this.token = decodeJwt(token);
    this.username = username;
    return userFromToken(this.token, username);
  }

  async signOut(): Promise<void> {
    this.token = null;
  }

  async current(): Promise<User | null> {
    return this.token ? userFromToken(this.token, this.username) : null;
  }
}

/** AWS: Amplify's own Cognito sign-in (SRP), tokens kept and refreshed by Amplify. */
class CognitoAuth implements Authenticator {
  readonly kind = 'cognito';
  readonly knownUsers: string[] = [];

  async signIn(username: string, password: string): Promise<User> {
    const result = await signIn({ username, password });
    if (!result.isSignedIn) {
      throw new Error(`Cognito needs another step first: ${result.nextStep.signInStep}`);
    }
    const user = await this.current();
    if (!user) throw new Error('signed in, but Cognito returned no tokens');
    return user;
  }

  async signOut(): Promise<void> {
    await signOut();
  }

  async current(): Promise<User | null> {
    const { tokens } = await fetchAuthSession();
    return tokens?.accessToken ? userFromToken(tokens.accessToken, '') : null;
  }
}

/** Configures Amplify for the stack and returns how users sign in to it. */
export function configureAmplify(config: PageConfig): Authenticator {
  const { auth } = config;
  const graphQL = {
    endpoint: config.graphql_url,
    region: config.region,
    // Reads go with the API key when the stack has one (signed-out visitors can search);
    // every write names authMode 'userPool' itself.
    defaultAuthMode: auth.api_key ? ('apiKey' as const) : ('userPool' as const),
    ...(auth.api_key ? { apiKey: auth.api_key } : {}),
  };
  if (config.local_users) {
    const local = new LocalAuth(config.local_users);
    Amplify.configure({ API: { GraphQL: graphQL } }, { Auth: { tokenProvider: local.tokenProvider } });
    return local;
  }
  Amplify.configure({
    API: { GraphQL: graphQL },
    Auth: { Cognito: { userPoolId: auth.user_pool_id ?? '', userPoolClientId: auth.user_pool_client_id ?? '' } },
  });
  return new CognitoAuth();
}
