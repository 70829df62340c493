import { formatKey, type KubeObject, keyOf, type ObjectKey } from './resource.ts';

/** Read access to the objects an informer holds: what reconcilers read (level-based). */
export interface CacheReader {
  get(key: ObjectKey): KubeObject | undefined;
  /** Every object, or those of one namespace. */
  list(namespace?: string): KubeObject[];
}

/** The objects of one kind, keyed by namespace/name, as last seen from the API server. */
export class ObjectCache implements CacheReader {
  private readonly objects = new Map<string, KubeObject>();

  get(key: ObjectKey): KubeObject | undefined {
    return this.objects.get(formatKey(key));
  }

  list(namespace?: string): KubeObject[] {
    const all = [...this.objects.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === namespace);
  }

  get size(): number {
    return this.objects.size;
  }

  /** Stores the object; returns the one it replaced. */
  upsert(object: KubeObject): KubeObject | undefined {
    const id = formatKey(keyOf(object));
    const previous = this.objects.get(id);
    this.objects.set(id, object);
    return previous;
  }

  /** Removes the object; returns it if it was there. */
  delete(key: ObjectKey): KubeObject | undefined {
    const id = formatKey(key);
    const previous = this.objects.get(id);
    this.objects.delete(id);
    return previous;
  }
}
