/**
 * A small, forgiving XML tree builder for Valgrind's output. It accepts what Valgrind writes
 * (elements, text, CDATA, comments, the XML declaration, character references) and, unlike a
 * strict parser, a document cut short — a run still in progress or killed — whose open
 * elements are closed at the end of input. It does not validate.
 */

/** An element with its children in document order; text children are strings. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: (XmlElement | string)[];
  /** False when the input ended before the element's end tag. */
  closed: boolean;
  /** 1-based line of the start tag (0 for the synthetic document root), so that a reader can
   * point an editor at the element. */
  line: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Replace entity and character references (unknown ones are kept as written). */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (all, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : all;
    }
    return ENTITIES[ref] ?? all;
  });
}

function parseAttributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=]+)\s*=\s*("([^"]*)"|'([^']*)')/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out[m[1]] = decodeEntities(m[3] ?? m[4] ?? '');
  return out;
}

/** Parse text into a synthetic root element whose children are the top-level nodes. */
export function parseXmlTree(text: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], closed: true, line: 0 };
  const stack: XmlElement[] = [root];
  const top = () => stack[stack.length - 1];
  let i = 0;
  const n = text.length;
  // Lines are counted lazily, up to the start tag being read, so the cost stays one pass.
  let line = 1;
  let counted = 0;
  const lineAt = (pos: number): number => {
    for (let nl = text.indexOf('\n', counted); nl >= 0 && nl < pos; nl = text.indexOf('\n', nl + 1)) line++;
    counted = pos;
    return line;
  };
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) { top().children.push(decodeEntities(text.slice(i))); break; }
    if (lt > i) top().children.push(decodeEntities(text.slice(i, lt)));
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      top().children.push(text.slice(lt + 9, end < 0 ? n : end));
      i = end < 0 ? n : end + 3;
    } else if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      i = end < 0 ? n : end + 3;
    } else if (text.startsWith('<?', lt) || text.startsWith('<!', lt)) {
      const end = text.indexOf('>', lt + 2);
      i = end < 0 ? n : end + 1;
    } else {
      const gt = text.indexOf('>', lt + 1);
      if (gt < 0) break; // a tag cut in the middle: ignore it
      const body = text.slice(lt + 1, gt);
      i = gt + 1;
      if (body.startsWith('/')) {
        const name = body.slice(1).trim();
        // Close up to the matching open element; a stray end tag is ignored.
        for (let k = stack.length - 1; k > 0; k--) {
          if (stack[k].name === name) {
            for (let j = stack.length - 1; j >= k; j--) stack[j].closed = j === k;
            stack.length = k;
            break;
          }
        }
      } else {
        const selfClosing = body.endsWith('/');
        const inner = selfClosing ? body.slice(0, -1) : body;
        const m = /^([^\s/>]+)\s*([\s\S]*)$/.exec(inner.trim());
        if (!m) continue;
        const el: XmlElement = { name: m[1], attributes: parseAttributes(m[2]), children: [], closed: selfClosing, line: lineAt(lt) };
        top().children.push(el);
        if (!selfClosing) stack.push(el);
      }
    }
  }
  return root;
}

/** Child elements of an element, optionally only those with a name. */
export function elements(el: XmlElement, name?: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string' && (name === undefined || c.name === name));
}

/** The first child element with a name. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c): c is XmlElement => typeof c !== 'string' && c.name === name);
}

/** Concatenated text content of an element (descendants included). */
export function textOf(el: XmlElement | undefined): string {
  if (!el) return '';
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

/** Text of a named child, or undefined when absent. */
export function childText(el: XmlElement, name: string): string | undefined {
  const c = child(el, name);
  return c ? textOf(c) : undefined;
}
