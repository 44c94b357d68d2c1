import { isMap, isScalar, parseDocument } from 'yaml';

/**
 * `text` (a compose file) with the `image:` of service `service` set to
 * `image`, and nothing else changed: the scalar is replaced in the source by
 * its byte range, so comments, quoting style of other values, key order and
 * blank lines stay as they were. The new value keeps the old one's quotes.
 * Null when the file has no plain `services.<service>.image` scalar.
 */
export function setServiceImage(text: string, service: string, image: string): string | null {
  const doc = parseDocument(text, { keepSourceTokens: true });
  if (doc.errors.length > 0) return null;
  const services = doc.get('services', true);
  if (!isMap(services)) return null;
  const def = services.get(service, true);
  if (!isMap(def)) return null;
  const node = def.get('image', true);
  // An interpolated image (`${TAG}`) is set where the variable is, not here.
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range || node.value.includes('$')) return null;
  const [start, end] = node.range;
  const quote = node.type === 'QUOTE_DOUBLE' ? '"' : node.type === 'QUOTE_SINGLE' ? "'" : '';
  if (node.type !== 'PLAIN' && quote === '') return null; // block scalars: not worth the risk of reflowing
  return `${text.slice(0, start)}${quote}${image}${quote}${text.slice(end)}`;
}
