/**
 * A structural validator of Valgrind's XML output, protocol 4 (Valgrind's
 * docs/internals/xml-output-protocol4.txt, summarised in ../shared/reference/memcheck.md §7):
 * first a strict well-formedness check (one root, matched tags, legal references, nothing but
 * comments and white space around the root), then the grammar of the document — required
 * elements, their order and nesting, and the types of their fields (INT, HEX64, the time
 * stamp, the kinds Memcheck 3.19 emits). It returns every problem found, each with the path of
 * the element, so a test failure says what is wrong where.
 *
 * Grammar (`?` optional, `*` any number, `+` at least one):
 *
 *   valgrindoutput = protocolversion protocoltool preamble pid ppid tool logfilequalifier*
 *                    usercomment? args status(RUNNING) TOP* status(FINISHED) TOP* errorcounts?
 *                    suppcounts?
 *   TOP            = error | errorcounts | suppcounts | clientmsg | fatal_signal | suppression
 *   preamble       = line*                         args = vargv argv
 *   vargv, argv    = exe arg*                      status = state time
 *   error          = unique tid threadname? kind (what | xwhat) stack
 *                    (auxwhat | xauxwhat | stack)* suppression?
 *   xwhat          = text ANY*  (leak kinds: text leakedbytes leakedblocks)
 *   xauxwhat       = text (file | line | dir)*
 *   stack          = frame+                        frame = ip obj? fn? dir? file? line?
 *   suppression    = sname skind skaux? sframe+ rawtext     sframe = fun | obj
 *   errorcounts    = pair(count unique)*           suppcounts = pair(count name)*
 *   clientmsg      = tid threadname? text stack?
 *   fatal_signal   = tid threadname? signo signame sicode event? siaddr? stack
 *
 * Protocol 4 documents are what Valgrind 3.19 writes; the validator rejects other versions.
 */

/** An element of the strictly parsed document. */
interface Node {
  name: string;
  children: Node[];
  /** Character data directly inside (entities decoded, CDATA included). */
  text: string;
  /** Whether any character data was CDATA. */
  cdata: boolean;
}

/** The 17 kinds Memcheck of Valgrind 3.19 emits. */
export const MEMCHECK_KINDS_PROTOCOL4: readonly string[] = [
  'InvalidRead', 'InvalidWrite', 'UninitCondition', 'UninitValue', 'SyscallParam', 'ClientCheck',
  'InvalidFree', 'MismatchedFree', 'Overlap', 'InvalidJump', 'InvalidMemPool', 'CoreMemError',
  'FishyValue', 'Leak_DefinitelyLost', 'Leak_IndirectlyLost', 'Leak_PossiblyLost', 'Leak_StillReachable',
];

const TOOLS = ['memcheck', 'helgrind', 'drd', 'exp-ptrcheck', 'exp-sgcheck'];

// ------------------------------------------------------------------ well-formedness

class NotWellFormed extends Error {}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_.:]*$/;

/** Decodes the five predefined entities and character references; throws on anything else. */
function decode(s: string, at: number): string {
  return s.replace(/&([^;&\s]*);?/g, (all, ref: string) => {
    if (!all.endsWith(';')) throw new NotWellFormed(`bare '&' in character data near offset ${at}`);
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (ref in named) return named[ref];
    const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
    if (!m) throw new NotWellFormed(`unknown entity &${ref}; near offset ${at}`);
    const code = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2], 10);
    if (code === 0 || code > 0x10ffff) throw new NotWellFormed(`bad character reference &${ref}; near offset ${at}`);
    return String.fromCodePoint(code);
  });
}

/** Parses strictly; throws NotWellFormed with the reason. */
function parseStrict(text: string): Node {
  let i = 0;
  const n = text.length;
  if (text.startsWith('<?xml')) {
    const end = text.indexOf('?>');
    if (end < 0) throw new NotWellFormed('unterminated XML declaration');
    if (!/^<\?xml\s+version\s*=\s*("1\.[0-9]"|'1\.[0-9]')/.test(text)) throw new NotWellFormed('XML declaration without version');
    i = end + 2;
  }
  const stack: Node[] = [];
  let root: Node | undefined;
  const chars = (s: string, at: number): void => {
    if (stack.length === 0) {
      if (s.trim() !== '') throw new NotWellFormed(`text outside the root element near offset ${at}`);
      return;
    }
    if (s.includes(']]>')) throw new NotWellFormed(`']]>' in character data near offset ${at}`);
    stack[stack.length - 1].text += decode(s, at);
  };
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) {
      chars(text.slice(i), i);
      break;
    }
    if (lt > i) chars(text.slice(i, lt), i);
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end < 0) throw new NotWellFormed(`unterminated comment at offset ${lt}`);
      if (text.slice(lt + 4, end).includes('--')) throw new NotWellFormed(`'--' inside a comment at offset ${lt}`);
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      if (end < 0) throw new NotWellFormed(`unterminated CDATA section at offset ${lt}`);
      if (stack.length === 0) throw new NotWellFormed(`CDATA outside the root element at offset ${lt}`);
      const top = stack[stack.length - 1];
      top.text += text.slice(lt + 9, end);
      top.cdata = true;
      i = end + 3;
    } else if (text.startsWith('<?', lt) || text.startsWith('<!', lt)) {
      throw new NotWellFormed(`unexpected markup at offset ${lt}: ${text.slice(lt, lt + 20)}`);
    } else {
      const gt = text.indexOf('>', lt + 1);
      if (gt < 0) throw new NotWellFormed(`unterminated tag at offset ${lt}`);
      const body = text.slice(lt + 1, gt);
      i = gt + 1;
      if (body.startsWith('/')) {
        const name = body.slice(1).trim();
        const open = stack.pop();
        if (!open) throw new NotWellFormed(`end tag </${name}> without a start tag at offset ${lt}`);
        if (open.name !== name) throw new NotWellFormed(`end tag </${name}> closes <${open.name}> at offset ${lt}`);
        continue;
      }
      const selfClosing = body.endsWith('/');
      const inner = (selfClosing ? body.slice(0, -1) : body).trim();
      const m = /^(\S+)\s*([\s\S]*)$/.exec(inner);
      if (!m || !NAME.test(m[1])) throw new NotWellFormed(`bad tag <${body}> at offset ${lt}`);
      let attrs = m[2];
      while (attrs.trim() !== '') {
        const a = /^\s*([A-Za-z_:][-A-Za-z0-9_.:]*)\s*=\s*("[^"<]*"|'[^'<]*')/.exec(attrs);
        if (!a) throw new NotWellFormed(`bad attributes in <${m[1]}> at offset ${lt}`);
        attrs = attrs.slice(a[0].length);
      }
      const node: Node = { name: m[1], children: [], text: '', cdata: false };
      if (stack.length > 0) stack[stack.length - 1].children.push(node);
      else if (root) throw new NotWellFormed(`a second root element <${m[1]}> at offset ${lt}`);
      else root = node;
      if (!selfClosing) stack.push(node);
    }
  }
  if (stack.length > 0) throw new NotWellFormed(`document ends inside <${stack.map((s) => s.name).join('><')}>`);
  if (!root) throw new NotWellFormed('no root element');
  return root;
}

// ------------------------------------------------------------------ the protocol's grammar

const INT = /^-?[0-9]+$/;
const HEX64 = /^0x[0-9a-fA-F]{1,16}$/;
const TIME = /^[0-9]{2}:[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} ?$/;

/** Walks a sequence of children against a grammar, collecting problems. */
class Cursor {
  private k = 0;
  constructor(private readonly parent: Node, private readonly path: string, private readonly problems: string[]) {}

  private get next(): Node | undefined {
    return this.parent.children[this.k];
  }

  peek(name: string): boolean {
    return this.next?.name === name;
  }

  /** The next child must be `name`. */
  one(name: string, check?: (n: Node, path: string) => void): Node | undefined {
    const c = this.next;
    if (c?.name !== name) {
      this.problems.push(`${this.path}: expected <${name}>${c ? `, found <${c.name}>` : ' (no more children)'}`);
      return undefined;
    }
    this.k++;
    check?.(c, `${this.path}/${name}`);
    return c;
  }

  optional(name: string, check?: (n: Node, path: string) => void): Node | undefined {
    return this.peek(name) ? this.one(name, check) : undefined;
  }

  many(name: string, check?: (n: Node, path: string) => void): Node[] {
    const out: Node[] = [];
    while (this.peek(name)) out.push(this.one(name, check)!);
    return out;
  }

  /** Nothing may follow. */
  end(): void {
    const rest = this.parent.children.slice(this.k).map((c) => `<${c.name}>`);
    if (rest.length > 0) this.problems.push(`${this.path}: unexpected ${rest.join(', ')}`);
  }
}

/** The validator proper. */
class Validator {
  readonly problems: string[] = [];

  private err(path: string, msg: string): void {
    this.problems.push(`${path}: ${msg}`);
  }

  /** A leaf with character data only, matching a pattern when given. */
  private leaf(re?: RegExp, what?: string) {
    return (n: Node, path: string): void => {
      if (n.children.length > 0) this.err(path, `must hold text only, has <${n.children[0].name}>`);
      if (re && !re.test(n.text)) this.err(path, `${JSON.stringify(n.text)} is not ${what ?? re.source}`);
    };
  }

  private readonly int = this.leaf(INT, 'an INT');
  private readonly hex = this.leaf(HEX64, 'a HEX64');
  private readonly text = this.leaf();

  document(root: Node): void {
    if (root.name !== 'valgrindoutput') {
      this.err('/', `root element is <${root.name}>, not <valgrindoutput>`);
      return;
    }
    if (root.text.trim() !== '') this.err('/valgrindoutput', 'stray text between elements');
    const c = new Cursor(root, '/valgrindoutput', this.problems);
    c.one('protocolversion', (n, p) => {
      this.int(n, p);
      if (n.text.trim() !== '4') this.err(p, `protocol ${n.text.trim()}, expected 4 (Valgrind 3.19)`);
    });
    c.one('protocoltool', (n, p) => {
      this.text(n, p);
      if (!TOOLS.includes(n.text)) this.err(p, `unknown tool ${JSON.stringify(n.text)}`);
    });
    c.one('preamble', (n, p) => {
      const pc = new Cursor(n, p, this.problems);
      pc.many('line', this.text);
      pc.end();
    });
    c.one('pid', this.int);
    c.one('ppid', this.int);
    c.one('tool', this.text);
    c.many('logfilequalifier', (n, p) => {
      const q = new Cursor(n, p, this.problems);
      q.one('var', this.text);
      q.one('value', this.text);
      q.end();
    });
    c.optional('usercomment');
    c.one('args', (n, p) => {
      const a = new Cursor(n, p, this.problems);
      for (const v of ['vargv', 'argv']) {
        a.one(v, (x, xp) => {
          const xc = new Cursor(x, xp, this.problems);
          xc.one('exe', this.text);
          xc.many('arg', this.text);
          xc.end();
        });
      }
      a.end();
    });
    c.one('status', (n, p) => this.status(n, p, 'RUNNING'));
    this.topLevel(c, '/valgrindoutput');
    c.one('status', (n, p) => this.status(n, p, 'FINISHED'));
    this.topLevel(c, '/valgrindoutput');
    c.end();
  }

  /** ERROR | ERRORCOUNTS | SUPPCOUNTS | CLIENTMSG | FATAL_SIGNAL | SUPPRESSION, any number. */
  private topLevel(c: Cursor, path: string): void {
    for (;;) {
      if (c.optional('error', (n, p) => this.error(n, p))) continue;
      if (c.optional('errorcounts', (n, p) => this.counts(n, p, 'unique'))) continue;
      if (c.optional('suppcounts', (n, p) => this.counts(n, p, 'name'))) continue;
      if (c.optional('clientmsg', (n, p) => this.clientmsg(n, p))) continue;
      if (c.optional('fatal_signal', (n, p) => this.fatalSignal(n, p))) continue;
      if (c.optional('suppression', (n, p) => this.suppression(n, p))) continue;
      void path;
      return;
    }
  }

  private status(n: Node, p: string, state: string): void {
    const c = new Cursor(n, p, this.problems);
    c.one('state', (s, sp) => {
      this.text(s, sp);
      if (s.text !== state) this.err(sp, `state ${JSON.stringify(s.text)}, expected ${state}`);
    });
    c.one('time', this.leaf(TIME, 'a time DD:HH:MM:SS.mmm'));
    c.end();
  }

  private error(n: Node, p: string): void {
    const c = new Cursor(n, p, this.problems);
    c.one('unique', this.hex);
    c.one('tid', this.int);
    c.optional('threadname');
    const kindNode = c.one('kind', this.text);
    const kind = kindNode?.text ?? '';
    if (kindNode && !MEMCHECK_KINDS_PROTOCOL4.includes(kind)) this.err(`${p}/kind`, `${JSON.stringify(kind)} is not a kind of protocol 4`);
    const isLeak = kind.startsWith('Leak_');
    if (c.peek('xwhat')) {
      c.one('xwhat', (x, xp) => {
        const xc = new Cursor(x, xp, this.problems);
        xc.one('text', this.text);
        if (isLeak) {
          xc.one('leakedbytes', this.int);
          xc.one('leakedblocks', this.int);
        } else {
          xc.many('leakedbytes');
        }
        xc.end();
      });
    } else {
      if (isLeak) this.err(p, `${kind} needs <xwhat> with <leakedbytes> and <leakedblocks>`);
      c.one('what', this.text);
    }
    c.one('stack', (s, sp) => this.stack(s, sp));
    for (;;) {
      if (c.optional('auxwhat', this.text)) continue;
      if (c.optional('xauxwhat', (x, xp) => {
        const xc = new Cursor(x, xp, this.problems);
        xc.one('text', this.text);
        for (;;) {
          if (xc.optional('file', this.text) || xc.optional('line', this.int) || xc.optional('dir', this.text)) continue;
          break;
        }
        xc.end();
      })) continue;
      if (c.optional('stack', (s, sp) => this.stack(s, sp))) continue;
      break;
    }
    c.optional('suppression', (s, sp) => this.suppression(s, sp));
    c.end();
  }

  private stack(n: Node, p: string): void {
    const c = new Cursor(n, p, this.problems);
    const frames = c.many('frame', (f, fp) => {
      const fc = new Cursor(f, fp, this.problems);
      fc.one('ip', this.hex);
      fc.optional('obj', this.text);
      fc.optional('fn', this.text);
      fc.optional('dir', this.text);
      fc.optional('file', this.text);
      fc.optional('line', this.int);
      fc.end();
    });
    if (frames.length === 0) this.err(p, 'a stack needs at least one <frame>');
    c.end();
  }

  private suppression(n: Node, p: string): void {
    const c = new Cursor(n, p, this.problems);
    c.one('sname', this.text);
    c.one('skind', this.leaf(/^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*:[A-Za-z0-9_]+$/, 'Tool:Kind'));
    c.optional('skaux', this.text);
    const frames = c.many('sframe', (f, fp) => {
      const fc = new Cursor(f, fp, this.problems);
      if (!fc.optional('fun', this.text)) fc.one('obj', this.text);
      fc.end();
    });
    if (frames.length === 0) this.err(p, 'a suppression needs at least one <sframe>');
    c.one('rawtext', (r, rp) => {
      if (r.children.length > 0) this.err(rp, 'must hold text only');
      if (!/\{[\s\S]*\}/.test(r.text)) this.err(rp, 'does not hold a suppression in braces');
    });
    c.end();
  }

  private counts(n: Node, p: string, second: 'unique' | 'name'): void {
    const c = new Cursor(n, p, this.problems);
    c.many('pair', (pair, pp) => {
      const pc = new Cursor(pair, pp, this.problems);
      pc.one('count', this.int);
      pc.one(second, second === 'unique' ? this.hex : this.text);
      pc.end();
    });
    c.end();
  }

  private clientmsg(n: Node, p: string): void {
    const c = new Cursor(n, p, this.problems);
    c.one('tid', this.int);
    c.optional('threadname');
    c.one('text', this.text);
    c.optional('stack', (s, sp) => this.stack(s, sp));
    c.end();
  }

  private fatalSignal(n: Node, p: string): void {
    const c = new Cursor(n, p, this.problems);
    c.one('tid', this.int);
    c.optional('threadname');
    c.one('signo', this.int);
    c.one('signame', this.leaf(/^SIG[A-Z0-9+]+$/, 'a signal name'));
    c.one('sicode', this.int);
    c.optional('event', this.text);
    c.optional('siaddr', this.hex);
    c.one('stack', (s, sp) => this.stack(s, sp));
    c.end();
  }
}

/**
 * Problems of a protocol-4 document: empty when it is well-formed and follows the protocol.
 * Beyond the grammar: `<unique>` values are distinct and each `<errorcounts>` pair names an
 * error shown before it.
 */
export function validateValgrindXml(text: string): string[] {
  let root: Node;
  try {
    root = parseStrict(text);
  } catch (e) {
    if (e instanceof NotWellFormed) return [`not well-formed: ${e.message}`];
    throw e;
  }
  const v = new Validator();
  v.document(root);
  if (root.name === 'valgrindoutput') {
    const uniques = new Set<string>();
    for (const c of root.children) {
      if (c.name === 'error') {
        const u = c.children.find((x) => x.name === 'unique')?.text ?? '';
        if (uniques.has(u)) v.problems.push(`/valgrindoutput/error: <unique>${u}</unique> repeats`);
        uniques.add(u);
      }
      if (c.name === 'errorcounts') {
        for (const pair of c.children) {
          const u = pair.children.find((x) => x.name === 'unique')?.text;
          if (u !== undefined && !uniques.has(u)) v.problems.push(`/valgrindoutput/errorcounts: counts <unique>${u}</unique>, no such error before it`);
        }
      }
    }
  }
  return v.problems;
}
