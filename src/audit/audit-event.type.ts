// The GraphQL face of an audit event: who did what to which object, when and why. Never a secret,
// and never the client address or user agent (those stay in the database for investigations).
import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { connectionTypes } from '../pagination/connection.type';

@ObjectType('AuditEvent', { description: 'One recorded change, validation run, re-wrap or minute of runtime resolves.' })
export class AuditEventType {
  @Field(() => ID)
  id!: string;

  @Field(() => GraphQLDateTime)
  at!: Date;

  @Field(() => String, { description: 'credential.created, credential.rotated, provider.deleted, credential.resolved, ...' })
  action!: string;

  @Field(() => String, { description: "The token's sub, or system:<command> for the vault's own commands." })
  actor!: string;

  @Field(() => String, { nullable: true, description: 'credential, provider or key_ring.' })
  targetType!: string | null;

  @Field(() => ID, { nullable: true })
  targetId!: string | null;

  @Field(() => [String], { description: 'The fields the change touched (names only).' })
  changedFields!: string[];

  @Field(() => Int, { nullable: true })
  secretVersion!: number | null;

  @Field(() => String, { nullable: true })
  changeNote!: string | null;

  @Field(() => String, { nullable: true, description: 'The X-Request-Id of the request that caused it.' })
  requestId!: string | null;
}

const auditEventConnection = connectionTypes(AuditEventType, 'AuditEvent', 'All events matching the filter, across pages.');
export const AuditEventConnection = auditEventConnection.Connection;
export type AuditEventConnection = InstanceType<typeof auditEventConnection.Connection>;
