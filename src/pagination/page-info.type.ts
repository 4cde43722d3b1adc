// Relay PageInfo, shared by every connection. Every Relay-style subgraph of a supergraph defines a
// type of this name, so it is a Federation value type (`@shareable`) with the four fields of the
// Relay specification: neighbours that define the same four compose with this subgraph, and the
// gateway reads each PageInfo from the subgraph that returned its connection.
import { Directive, Field, ObjectType } from 'type-graphql';

@Directive('@shareable')
@ObjectType({ description: 'Relay pagination state.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean, {
    description: 'Always false: lists page forward only (`first`/`after`), for which Relay allows false.',
  })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: "The first edge's cursor; null when the page is empty." })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page.' })
  endCursor!: string | null;
}
