// The limits every GraphQL operation is held to before anything runs, so that one request cannot
// take the service's CPU and memory from everyone else:
//   - lexical tokens, counted by graphql-js while it parses (parse aborts past the limit);
//   - depth, aliases and directives, GraphQL Armor's validation rules;
//   - cost and validation mutations, this file's rule: it reads the schema, so a page asked for
//     with a variable or left to its default counts at its real size, which Armor's cost rule
//     (literal `first` only) would count as one.
// The rules run inside Apollo's validation: a document that passes is cached with the validated
// documents and not measured again. Each refusal is a QueryTooComplexError naming the limit.
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type ASTVisitor,
  type FieldNode,
  type GraphQLField,
  GraphQLError,
  type GraphQLNamedType,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type OperationDefinitionNode,
  OperationTypeNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { type OperationLimitName, QueryTooComplexError } from '../errors/app-error';
import { MAX_PAGE_SIZE } from '../pagination/page-cursor';

export interface OperationLimits {
  /** Fields nested inside one another; fragments add no level. */
  maxDepth: number;
  /** Aliased fields in one operation, fragments included (`__typename` aliases are free). */
  maxAliases: number;
  /** Estimated field resolutions (see operationCost). */
  maxCost: number;
  /** Lexical tokens of the whole document (names, punctuation, values; not comments). */
  maxTokens: number;
  /** Directives in one operation, fragments included. */
  maxDirectives: number;
  /** Mutations that call AWS or Google (VALIDATION_MUTATIONS) in one operation. */
  maxValidationMutations: number;
}

export const OPERATION_LIMIT_DEFAULTS: Readonly<OperationLimits> = {
  maxDepth: 8,
  maxAliases: 15,
  maxCost: 5000,
  maxTokens: 1000,
  maxDirectives: 10,
  maxValidationMutations: 3,
};

/** The mutations that call a cloud API (STS, Google's token endpoint, Vertex) each time they run. */
export const VALIDATION_MUTATIONS: readonly string[] = ['validateAwsRole', 'validateGoogleVertex'];

/** How each limit is named in messages. */
const LIMIT_LABELS: Record<OperationLimitName, { label: string; found?: (count: number) => string }> = {
  depth: { label: 'depth limit', found: (count) => `fields nested ${count} deep` },
  aliases: { label: 'alias limit', found: (count) => `${count} aliases` },
  cost: { label: 'cost limit', found: (count) => `estimated cost ${count}` },
  // graphql-js stops counting at the limit.
  tokens: { label: 'token limit' },
  directives: { label: 'directive limit', found: (count) => `${count} directives` },
  validationMutations: { label: 'validation mutation limit', found: (count) => `${count} validation mutations` },
};

export function operationLimitError(limit: OperationLimitName, max: number, found?: number): QueryTooComplexError {
  const { label, found: describe } = LIMIT_LABELS[limit];
  const detail = found === undefined || describe === undefined ? '' : ` (${describe(found)})`;
  return new QueryTooComplexError(limit, max, `The operation exceeds the ${label} of ${max}${detail}.`);
}

/** graphql-js parser options: the token limit. */
export function operationParseOptions(limits: OperationLimits): ParseOptions {
  return { maxLexicalTokens: limits.maxTokens };
}

export function operationLimitRules(limits: OperationLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, flattenFragments: true, ...reportAs('depth', limits.maxDepth) }),
    maxAliasesRule({ n: limits.maxAliases, ...reportAs('aliases', limits.maxAliases) }),
    maxDirectivesRule({ n: limits.maxDirectives, ...reportAs('directives', limits.maxDirectives) }),
    operationCostRule(limits),
  ];
}

/**
 * Armor's rules throw by default, which would escape graphql-js's validate and become a 500; the
 * rejection is reported to the validation context instead, as our own error. Armor puts the count
 * it found at the end of its message ("..., found 11.").
 */
function reportAs(limit: OperationLimitName, max: number) {
  return {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        const found = /found (\d+)\.$/.exec(error.message);
        context?.reportError(operationLimitError(limit, max, found ? Number(found[1]) : undefined));
      },
    ],
  };
}

/** The cost and validation mutation limits, measured on each operation of the document. */
export function operationCostRule(limits: Pick<OperationLimits, 'maxCost' | 'maxValidationMutations'>): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const cost = operationCost(context, operation);
      if (cost > limits.maxCost) context.reportError(operationLimitError('cost', limits.maxCost, Math.ceil(cost)));
      const validations = validationMutationCount(context, operation);
      if (validations > limits.maxValidationMutations) {
        context.reportError(operationLimitError('validationMutations', limits.maxValidationMutations, validations));
      }
      return false;
    },
  });
}

/**
 * How many fields the operation may resolve: every field costs one per time it runs, and the
 * items of a list run once each. A list's size is the `first` of the field that returns its
 * connection (`credentials(first: 20) { edges { ... } }`): the literal value, the argument's
 * default when it is left out, and the largest page (MAX_PAGE_SIZE) when it comes from a variable,
 * whose value validation cannot see. A list without a page size (a credential's providers) counts
 * as one item: its size depends on the data, which the depth limit keeps from compounding.
 */
export function operationCost(context: ValidationContext, operation: OperationDefinitionNode): number {
  const schema = context.getSchema();
  const fragmentCosts = new Map<string, number>();
  const walking = new Set<string>();

  const costOf = (selectionSet: SelectionSetNode, parentType: GraphQLNamedType | undefined, pageSize: number | undefined): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        cost += 1;
        const field = fieldOf(parentType, selection.name.value);
        if (!selection.selectionSet || !field) continue;
        const items = isListType(getNullableType(field.type)) ? (pageSize ?? 1) : 1;
        if (items > 0) cost += items * costOf(selection.selectionSet, getNamedType(field.type), pageSizeOf(field, selection));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
        cost += costOf(selection.selectionSet, type ?? undefined, pageSize);
      } else {
        // A fragment is costed once per page size it is spread under; a cycle (reported by
        // graphql-js's own NoFragmentCycles rule) adds nothing.
        const name = selection.name.value;
        const key = `${name}:${pageSize ?? ''}`;
        const fragment = context.getFragment(name);
        if (!fragment || walking.has(name)) continue;
        let fragmentCost = fragmentCosts.get(key);
        if (fragmentCost === undefined) {
          walking.add(name);
          fragmentCost = costOf(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined, pageSize);
          walking.delete(name);
          fragmentCosts.set(key, fragmentCost);
        }
        cost += fragmentCost;
      }
    }
    return cost;
  };

  return costOf(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined, undefined);
}

/** Root fields of a mutation named in VALIDATION_MUTATIONS, aliases and fragments included. */
export function validationMutationCount(context: ValidationContext, operation: OperationDefinitionNode): number {
  if (operation.operation !== OperationTypeNode.MUTATION) return 0;
  const counted = new Map<string, number>();
  const countIn = (selectionSet: SelectionSetNode, walking: Set<string>): number => {
    let count = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (VALIDATION_MUTATIONS.includes(selection.name.value)) count += 1;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        count += countIn(selection.selectionSet, walking);
      } else {
        const name = selection.name.value;
        const fragment = context.getFragment(name);
        if (!fragment || walking.has(name)) continue;
        const known = counted.get(name);
        const fragmentCount = known ?? countIn(fragment.selectionSet, new Set([...walking, name]));
        counted.set(name, fragmentCount);
        count += fragmentCount;
      }
    }
    return count;
  };
  return countIn(operation.selectionSet, new Set());
}

function fieldOf(type: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  return type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[name] : undefined;
}

/** The page size a field's `first` argument asks for; undefined when it has none. */
function pageSizeOf(field: GraphQLField<unknown, unknown>, node: FieldNode): number | undefined {
  const argument = field.args.find((candidate) => candidate.name === 'first');
  if (!argument) return undefined;
  const given = node.arguments?.find((candidate) => candidate.name.value === 'first');
  if (!given) return typeof argument.defaultValue === 'number' ? clampPageSize(argument.defaultValue) : MAX_PAGE_SIZE;
  if (given.value.kind === Kind.INT) return clampPageSize(Number(given.value.value));
  return MAX_PAGE_SIZE;
}

function clampPageSize(value: number): number {
  return Math.min(Math.max(value, 0), MAX_PAGE_SIZE);
}

/**
 * The parse error graphql-js raises past the token limit, as a QueryTooComplexError; undefined
 * for any other error. graphql-js gives it no code, only its message
 * ("Syntax Error: Document contains more that 1000 tokens. Parsing aborted.").
 */
export function tokenLimitErrorOf(error: unknown): QueryTooComplexError | undefined {
  if (!(error instanceof GraphQLError)) return undefined;
  const match = /^Syntax Error: Document contains more th(?:at|an) (\d+) tokens\. Parsing aborted\.$/.exec(error.message);
  return match ? operationLimitError('tokens', Number(match[1])) : undefined;
}
