// The part of JSON Schema that config/config.schema.json uses, and its keys in order.

export interface SchemaNode {
  readonly description?: string;
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly SchemaNode[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly items?: SchemaNode;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
}

/** A key of the configuration: an object's property, or a property of an array's items. */
export interface SchemaKey {
  /** `router.udp.port`; a property of an array's items as `routers.static[].udp`. */
  readonly name: string;
  readonly node: SchemaNode;
  /** Whether it is a property of an array's items (set within that array, not on its own). */
  readonly inArray: boolean;
  /** Whether its object requires it. */
  readonly required: boolean;
}

/** The node's types as a list (a schema without `type`, such as an enum's, has none). */
export function typesOf(node: SchemaNode): readonly string[] {
  return node.type === undefined ? [] : ([] as string[]).concat(node.type);
}

/** Every key below `node`, depth first, each object before its own keys. */
export function schemaKeys(node: SchemaNode, prefix = '', inArray = false): SchemaKey[] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const name = prefix + key;
    const own: SchemaKey = { name, node: child, inArray, required: node.required?.includes(key) ?? false };
    const below = child.properties ? schemaKeys(child, `${name}.`, inArray) : child.items?.properties ? schemaKeys(child.items, `${name}[].`, true) : [];
    return [own, ...below];
  });
}
