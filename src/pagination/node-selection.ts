// What a GraphQL selection asks of the objects it returns, or of a connection's nodes
// (`edges { node { ... } }`), so that a read can take only those fields. Fragments and inline
// fragments are followed; directives are not evaluated, so a field under @skip or @include counts
// as selected (reading more is harmless).
import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { Kind } from 'graphql';

/** The selection of a field: its nodes (one per place it is selected) and the document's fragments. */
export type FieldSelection = Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>;

/** The fields selected on what `selection` returns, by name (`__typename` left out), each with its own selection. */
export function selectedFields(selection: FieldSelection): Map<string, FieldSelection> {
  const nodes = new Map<string, FieldNode[]>();
  for (const node of selection.fieldNodes) {
    eachField(node.selectionSet, selection.fragments, (field) => {
      const name = field.name.value;
      if (name !== '__typename') nodes.set(name, [...(nodes.get(name) ?? []), field]);
    });
  }
  const fields = new Map<string, FieldSelection>();
  for (const [name, fieldNodes] of nodes) fields.set(name, { fieldNodes, fragments: selection.fragments });
  return fields;
}

/** The fields selected on the nodes of the connection `selection` returns (`edges { node { ... } }`), as selectedFields. */
export function selectedNodeFields(selection: FieldSelection): Map<string, FieldSelection> {
  const edges = selectedFields(selection).get('edges');
  const node = edges && selectedFields(edges).get('node');
  return node ? selectedFields(node) : new Map<string, FieldSelection>();
}

/** Calls `visit` on each field of a selection set, through its fragments (each fragment once). */
function eachField(
  selectionSet: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  visit: (field: FieldNode) => void,
  spread: Set<string> = new Set(),
): void {
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.kind === Kind.FIELD) {
      visit(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      eachField(selection.selectionSet, fragments, visit, spread);
    } else if (!spread.has(selection.name.value)) {
      spread.add(selection.name.value);
      eachField(fragments[selection.name.value]?.selectionSet, fragments, visit, spread);
    }
  }
}
