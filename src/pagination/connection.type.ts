// GraphQL Relay connection types for a node type: `<Name>Edge` and `<Name>Connection`, built
// once per node so that every list speaks the same shape.
import { type ClassType, Field, Int, ObjectType } from 'type-graphql';
import { PageInfo } from './page-info.type';

export function connectionTypes<Node extends object>(nodeType: ClassType<Node>, name: string, totalCountDescription: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: Node;
  }

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
