// GraphQL Relay connection types for a node type: `<Name>Edge` and `<Name>Connection`, built
// once per node so that every list speaks the same shape. Like PageInfo they are value types
// (`@shareable`): a neighbouring subgraph that pages over this subgraph's entities (a
// `CredentialConnection` of its own, nodes resolved here) may define them too, with the same fields.
import { type ClassType, Directive, Field, Int, ObjectType } from 'type-graphql';
import { PageInfo } from './page-info.type';

export function connectionTypes<Node extends object>(nodeType: ClassType<Node>, name: string, totalCountDescription: string) {
  @Directive('@shareable')
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: Node;
  }

  @Directive('@shareable')
  @ObjectType(`${name}Connection`)
  class Connection {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: totalCountDescription })
    totalCount!: number;
  }

  return { Edge, Connection };
}
