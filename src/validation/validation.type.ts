// GraphQL shapes of a validation's outcome.
import { Field, Int, ObjectType } from 'type-graphql';
import { AuthTypeEnum } from '../catalog/catalog.enums';
import type { AuthType } from '../catalog/model-provider-catalog';

@ObjectType('ValidationCheck', { description: 'One step of a validation.' })
export class ValidationCheckType {
  @Field(() => String)
  name!: string;

  @Field(() => Boolean)
  ok!: boolean;

  @Field(() => String, { nullable: true })
  detail!: string | null;

  @Field(() => Int)
  durationMs!: number;
}

@ObjectType('ValidationResult', { description: 'A check that fails is data (ok: false), not an error. Never carries a secret.' })
export class ValidationResultType {
  @Field(() => Boolean)
  ok!: boolean;

  @Field(() => AuthTypeEnum)
  authType!: AuthType;

  @Field(() => [ValidationCheckType], { description: 'Each step tried, in order.' })
  checks!: ValidationCheckType[];

  @Field(() => String, { nullable: true, description: 'Why it is not ok, for a person.' })
  message!: string | null;
}
