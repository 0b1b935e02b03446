// `node --import ./register.mjs ...`: resolves the AppSync imports to this local runtime.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
