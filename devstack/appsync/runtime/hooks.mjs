// Module resolve hook: `@aws-appsync/utils` (whose npm package ships types only) and its `/dynamodb`
// helpers resolve to the local implementations next to this file; everything else resolves as usual.
const SHIMS = {
  '@aws-appsync/utils': new URL('./utils.mjs', import.meta.url).href,
  '@aws-appsync/utils/dynamodb': new URL('./dynamodb.mjs', import.meta.url).href,
};

export async function resolve(specifier, context, nextResolve) {
  if (Object.hasOwn(SHIMS, specifier)) {
    return { url: SHIMS[specifier], shortCircuit: true };
  }
  if (specifier.startsWith('@aws-appsync/utils/')) {
    throw new Error(`${specifier} is not provided by the local AppSync runtime (only @aws-appsync/utils and /dynamodb)`);
  }
  return nextResolve(specifier, context);
}
