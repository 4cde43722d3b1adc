// `_entities(representations: [_Any!]!)` accepts any JSON value per representation. @apollo/subgraph
// looks the `__typename` up as it is (a value such as "Query" gets past it and fails later) and
// the reference resolvers trust `id`, so a representation of the wrong shape would end as an
// internal error. Each one is checked first and refused as BAD_USER_INPUT naming its index.
import { type GraphQLFieldResolver, type GraphQLSchema, isUnionType } from 'graphql';
import { BadUserInputError } from '../errors/app-error';

/** Wraps the schema's `_entities` resolver with checkEntityRepresentations; a schema without entities is left as it is. */
export function guardEntityRepresentations(schema: GraphQLSchema): void {
  const field = schema.getQueryType()?.getFields()._entities;
  const entity = schema.getType('_Entity');
  const resolve: GraphQLFieldResolver<unknown, unknown> | undefined = field?.resolve;
  if (!field || !resolve || !isUnionType(entity)) return;
  const entityTypes = entity.getTypes().map((type) => type.name);
  field.resolve = (source, args: Record<string, unknown>, context, info) => {
    checkEntityRepresentations(args.representations, entityTypes);
    return resolve(source, args, context, info);
  };
}

/**
 * Every representation must be an object whose `__typename` is one of `entityTypes` and whose
 * `id` is a string (every entity of this subgraph is keyed by `id`). Values are never repeated
 * in the message: a representation is whatever the caller sent.
 */
export function checkEntityRepresentations(representations: unknown, entityTypes: readonly string[]): void {
  if (!Array.isArray(representations)) throw new BadUserInputError('representations', 'representations must be a list.');
  representations.forEach((representation: unknown, index) => {
    const field = `representations.${index}`;
    if (representation === null || typeof representation !== 'object' || Array.isArray(representation)) {
      throw new BadUserInputError(field, `${field} must be an object with __typename and id.`);
    }
    const { __typename: typename, id } = representation as Record<string, unknown>;
    if (typeof typename !== 'string' || !entityTypes.includes(typename)) {
      throw new BadUserInputError(
        `${field}.__typename`,
        `${field}.__typename must name an entity type of this subgraph (${entityTypes.join(', ')}).`,
      );
    }
    if (typeof id !== 'string') throw new BadUserInputError(`${field}.id`, `${field}.id must be a string.`);
  });
}
