// graphql-js quotes the offending value in its coercion and validation messages
// ("Variable "$input" got invalid value "sk-live-..." at ..."). Those values may be secrets, so
// every such message is rewritten without them, and the input path it concerns becomes
// `extensions.field` (named after the argument, e.g. `input.settings`, whatever the variable).
// graphql-js's hints ("Did you mean the enum value "OPENAI"?") name values and fields of the
// schema, never the input, so they are kept, unless schema details are hidden (production).
import { type ArgumentNode, type ASTNode, type DocumentNode, type GraphQLError, Kind, type ObjectFieldNode, visit } from 'graphql';

export interface InputErrorShapingOptions {
  /** Drop graphql-js's "Did you mean ...?" hints, as Apollo does for validation errors in production. */
  hideSuggestions?: boolean;
}

export interface ShapedInputError {
  message: string;
  /** The argument path, e.g. `input.auth.awsRole`; absent when the error names no input. */
  field?: string;
}

const VARIABLE_INVALID = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" got invalid value /;
const VARIABLE_MISSING =
  /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" (of required type "[^"]*" was not provided|of non-null type "[^"]*" must not be null)\.$/;
/** `Field "name" of required type ...` (variables) or `Field "Type.name" of required type ...` (literals). */
const REQUIRED_FIELD_MISSING =
  /^Field "(?:[_A-Za-z][_0-9A-Za-z]*\.)?([_A-Za-z][_0-9A-Za-z]*)" of required type "[^"]*" was not provided\.$/;

const NAME = '[_A-Za-z][_0-9A-Za-z]*';
/** The hint graphql-js appends to an unknown enum value: one to five of the enum's own value names. */
const ENUM_HINT = ` Did you mean the enum value "${NAME}"(?:(?:, |,? or )"${NAME}")*\\?`;
/**
 * A message of GraphQLEnumType (parseValue for a variable, parseLiteral behind "Expected value of
 * type" for a literal) ending in its hint. The hint is matched at the very end, after the text
 * graphql-js writes after the value, so no value can pass for one; a message of another type
 * (a scalar that quotes its input last) never starts this way.
 */
const ENUM_MESSAGE_WITH_HINT = new RegExp(
  `^(?:Expected value of type "\\[*(${NAME})[\\]!]*", found [\\s\\S]*; )?` +
    `(?:Value "[\\s\\S]*" does not exist in "(${NAME})" enum\\.|Enum "(${NAME})" cannot represent non-(?:string|enum) value: [\\s\\S]*\\.)` +
    `(${ENUM_HINT})$`,
);
/** Any hint graphql-js appends (enum values, field, argument and type names). */
const ANY_HINT = / ?Did you mean .+\?$/;

/** The "Did you mean the enum value ...?" hint of an enum's message, or ''. */
function enumHintOf(message: string): string {
  const match = ENUM_MESSAGE_WITH_HINT.exec(message);
  if (!match) return '';
  const [, expectedType, enumOfValue, enumOfRepresent, hint] = match;
  return expectedType === undefined || expectedType === (enumOfValue ?? enumOfRepresent) ? hint : '';
}

/** Drops the quoted value from the messages graphql-js and scalars produce, keeping an enum's hint. */
export function withoutValues(message: string): string {
  const hint = enumHintOf(message);
  const expected = /^(Expected value of type "[^"]+"), found [\s\S]*$/.exec(message);
  if (expected) return `${expected[1]}.${hint}`;
  const represent = /^([\s\S]*? cannot represent [^:]*?): [\s\S]*$/.exec(message);
  if (represent) return `${represent[1]}.${hint}`;
  const enumValue = /^Value "[\s\S]*" does not exist in ("[^"]+" enum)\.[\s\S]*$/.exec(message);
  if (enumValue) return `The value does not exist in ${enumValue[1]}.${hint}`;
  if (message.startsWith('Syntax Error:')) {
    // The lexer quotes the token it stopped at: `Expected ":", found String "sk-live-..."`.
    return message.replace(/\b(String|BlockString|Name|Int|Float) "(?:[^"\\]|\\.)*"/g, '$1');
  }
  return message;
}

export function shapeInputError(
  error: GraphQLError,
  document: DocumentNode | undefined,
  options: InputErrorShapingOptions = {},
): ShapedInputError | null {
  const shape = shapeWithHints(error, document);
  if (!shape || !options.hideSuggestions) return shape;
  return { ...shape, message: shape.message.replace(ANY_HINT, '') };
}

function shapeWithHints(error: GraphQLError, document: DocumentNode | undefined): ShapedInputError | null {
  const invalid = VARIABLE_INVALID.exec(error.message);
  if (invalid) return shapeInvalidVariable(error, invalid[1], document);

  const missingVariable = VARIABLE_MISSING.exec(error.message);
  if (missingVariable) return { message: error.message, field: argumentPathOfVariable(document, missingVariable[1]) };

  const node = error.nodes?.[0];
  const sanitized = withoutValues(error.message);
  const missing = REQUIRED_FIELD_MISSING.exec(error.message);
  if (sanitized !== error.message || missing || /^OneOf Input Object/.test(error.message)) {
    const path = node && document ? pathOfNode(document, node) : undefined;
    // A missing field is reported on the object that lacks it; the field itself is the path.
    const field = path !== undefined && missing ? `${path}.${missing[1]}` : path;
    return field ? { message: sanitized, field } : { message: sanitized };
  }
  return null;
}

function shapeInvalidVariable(error: GraphQLError, variable: string, document: DocumentNode | undefined): ShapedInputError {
  const inner = error.originalError?.message;
  const argument = argumentPathOfVariable(document, variable);
  if (!inner || !error.message.endsWith(`; ${inner}`)) {
    return { message: `Variable "$${variable}" got an invalid value.`, field: argument };
  }
  const head = error.message.slice(0, -(inner.length + 2));
  // The path graphql-js appends is `<variable><.field|[index]...>`; the value printed before it
  // cannot end in this shape because its strings are quoted with escapes.
  const at = / at "([^"]*)"$/.exec(head);
  const suffix = at && at[1].startsWith(variable) ? at[1].slice(variable.length) : '';
  const missing = REQUIRED_FIELD_MISSING.exec(inner);
  const field = `${argument}${suffix.replace(/\[(\d+)\]/g, '.$1')}${missing ? `.${missing[1]}` : ''}`;
  return { message: `Variable "$${variable}" got invalid value at "${field}"; ${withoutValues(inner)}`, field };
}

/** Where `$variable` is used: the argument (and input fields) it is passed as, e.g. `input`. */
function argumentPathOfVariable(document: DocumentNode | undefined, variable: string): string {
  if (!document) return variable;
  let found: string | undefined;
  walkInputs(document, (node, path) => {
    if (found === undefined && node.kind === Kind.VARIABLE && node.name.value === variable) found = path.join('.');
  });
  return found ?? variable;
}

function pathOfNode(document: DocumentNode, target: ASTNode): string | undefined {
  let found: string | undefined;
  walkInputs(document, (node, path) => {
    if (found === undefined && node === target) found = path.join('.');
  });
  return found;
}

/** Visits argument values with their input path (argument name, then object fields and list indexes). */
function walkInputs(document: DocumentNode, onValue: (node: ASTNode, path: string[]) => void): void {
  const path: string[] = [];
  // An argument and an input object field both add their name to the path for their value.
  const namedValue = {
    enter: (node: ArgumentNode | ObjectFieldNode) => {
      path.push(node.name.value);
      onValue(node.value, path);
    },
    leave: () => {
      path.pop();
    },
  };
  visit(document, {
    VariableDefinition: () => false,
    Argument: namedValue,
    ObjectField: namedValue,
    ListValue: {
      enter: (node) => {
        node.values.forEach((value, index) => onValue(value, [...path, String(index)]));
      },
    },
  });
}
