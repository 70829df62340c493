/**
 * An ajv validator compiled on its first call rather than when it is made. The bundled CLI makes
 * @platformatic/kafka's option validators with it (scripts/bundle-cli.ts): the client compiles
 * ~40 of them as its modules load, about 0.15 s of every start, while a run calls a handful.
 */

/** What the client does with a validator: call it, then read `errors` when it said no. */
export interface Validator {
  (data: unknown): boolean;
  readonly errors: unknown;
}

export function lazyCompile(ajv: { compile(schema: object): Validator }, schema: object): Validator {
  let compiled: Validator | undefined;
  const validate = (data: unknown): boolean => {
    compiled ??= ajv.compile(schema);
    return compiled(data);
  };
  // ajv sets `errors` on the compiled function at each call; read through to it.
  Object.defineProperty(validate, 'errors', { get: () => compiled?.errors ?? null });
  return validate as Validator;
}
