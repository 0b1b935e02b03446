/**
 * Writes a new listing (commands data source).
 *
 * A one-item transaction, because only transactions hand back the item that failed the condition
 * (`returnValuesOnConditionCheckFailure`): a retry with the same client-chosen id and the same content
 * returns the stored listing (idempotent); different content is an AlreadyExistsError.
 * Version scheme (docs/design.md §3): a new item gets nowEpochMillis * 1000.
 */
import { util } from '@aws-appsync/utils';

const CONTENT = ['title', 'description', 'category', 'tags', 'price', 'currency', 'location', 'city', 'owner', 'status'];

function sameContent(stored, wanted) {
  return CONTENT.every((name) => JSON.stringify(stored[name]) === JSON.stringify(wanted[name]));
}

function toListing(item) {
  return { ...item, version: `${item.version}`, reviews: null, distanceKm: null };
}

export function request(ctx) {
  const { input, actor } = ctx.stash;
  const id = input.id || util.autoId();
  const now = util.time.nowISO8601();
  const item = {
    id,
    type: 'Listing',
    title: input.title,
    description: input.description || '',
    category: input.category,
    tags: input.tags || [],
    price: input.price,
    currency: input.currency,
    location: { lat: input.location.lat, lon: input.location.lon },
    city: input.city,
    owner: actor.backend ? input.owner : actor.id,
    status: input.status || 'ACTIVE',
    createdAt: now,
    updatedAt: now,
    version: util.time.nowEpochMilliSeconds() * 1000,
    gsi1pk: `OWNER#${actor.backend ? input.owner : actor.id}`,
    gsi1sk: `LISTING#${now}#${id}`,
  };
  ctx.stash.item = item;
  return {
    operation: 'TransactWriteItems',
    transactItems: [
      {
        table: ctx.env.TABLE_NAME,
        operation: 'PutItem',
        key: util.dynamodb.toMapValues({ pk: `LISTING#${id}`, sk: 'LISTING' }),
        attributeValues: util.dynamodb.toMapValues(item),
        condition: { expression: 'attribute_not_exists(pk)', returnValuesOnConditionCheckFailure: true },
      },
    ],
  };
}

export function response(ctx) {
  const wanted = ctx.stash.item;
  if (ctx.error) {
    const reasons = (ctx.result && ctx.result.cancellationReasons) || [];
    const stored = reasons.length > 0 ? reasons[0].item : null;
    // A failed condition shows as cancellation reasons carrying the stored item (returnValues...).
    if (stored) {
      if (sameContent(stored, wanted)) {
        return toListing(stored);
      }
      util.error(`Listing ${wanted.id} already exists`, 'AlreadyExistsError', null, {
        id: wanted.id,
        currentVersion: `${stored.version}`,
      });
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  return toListing(wanted);
}
