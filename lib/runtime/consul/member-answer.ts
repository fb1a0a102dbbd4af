import { isNodeName } from '../../manifest/names';

/** Where one instance ends and the next begins in an answer of /v1/health/connect (Consul writes Node first). */
const NEXT_ENTRY = '},{"Node":';

/**
 * The node names in the `erlang_node` meta of the instances of a /v1/health/connect answer:
 * valid node names only, once each, sorted. A group of a thousand answers 2.3 MB: parsed whole,
 * its tree (~10 MB) outlived the young generation and was promoted, old-space garbage on every
 * change. So each instance is parsed alone, its tree garbage at once. Splitting at NEXT_ENTRY is
 * safe: outside strings only (a quote in a string is escaped), and a split inside an instance (a
 * proxy config holding such an array) leaves pieces that are not JSON, so the answer is parsed
 * whole instead; pieces that all parse are exactly the instances.
 */
export function memberNodes(text: string): string[] {
  const metas = instanceMetas(text) ?? (JSON.parse(text) as Instance[]).map(metaOf);
  // Only valid node names: a malformed meta would make a bad host-map line and query name.
  const nodes = new Set(metas.map((m) => m?.erlang_node).filter((n): n is string => typeof n === 'string' && isNodeName(n)));
  return [...nodes].sort();
}

interface Instance {
  readonly Service?: { readonly Meta?: Record<string, unknown> };
}

const metaOf = (e: Instance | null | undefined) => e?.Service?.Meta;

/** The meta of each instance, each parsed alone; undefined when the answer is not split that way. */
function instanceMetas(text: string): Array<Record<string, unknown> | undefined> | undefined {
  if (!text.startsWith('[{"Node":') || !text.endsWith('}]')) return undefined;
  const out: Array<Record<string, unknown> | undefined> = [];
  let from = 1;
  for (;;) {
    const at = text.indexOf(NEXT_ENTRY, from);
    const end = at === -1 ? text.length - 1 : at + 1;
    let entry: Instance;
    try {
      entry = JSON.parse(text.slice(from, end)) as Instance;
    } catch {
      return undefined;
    }
    out.push(metaOf(entry));
    if (at === -1) return out;
    from = at + 2;
  }
}
