/**
 * The contract between the language server, the VS Code extension and the debug adapter.
 *
 * This module is plain data (no imports) so that the extension, the adapter and the server can
 * all depend on it without pulling in each other's libraries. Its shapes follow Valgrind's XML
 * error record (docs/internals/xml-output-protocol4.txt): whatever produced a finding — a
 * Valgrind or unigrind XML file, or the adapter while the program runs — it travels as an
 * `ErrorRecord`.
 */

/** One stack frame, innermost first, with the optional children of Valgrind's `<frame>`. */
export interface ValgrindFrame {
  /** Instruction pointer (`<ip>`). */
  ip?: number;
  /** Object file path (`<obj>`). */
  obj?: string;
  /** Function name as Valgrind prints it: demangled for C++ (`<fn>`). */
  fn?: string;
  /** Source directory (`<dir>`), usually absolute. */
  dir?: string;
  /** Source file name (`<file>`), relative to `dir` when `dir` is present. */
  file?: string;
  /** 1-based source line (`<line>`). */
  line?: number;
}

/**
 * An auxiliary line of an error (`<auxwhat>` or `<xauxwhat>`) with the stack that follows it
 * ("Address 0x… is 0 bytes after a block of size 40 alloc'd" + the allocation stack).
 */
export interface AuxInfo {
  text: string;
  stack?: ValgrindFrame[];
  /** `<xauxwhat>` may carry a source position of its own. */
  dir?: string;
  file?: string;
  line?: number;
}

/**
 * A suppression in Valgrind's terms: `kind` is the second line of the entry (`Memcheck:Addr4`),
 * `extra` the optional kind-specific lines (`write(buf)`, `match-leak-kinds: definite`), `frames`
 * the frame lines exactly as written in a `.supp` file (`fun:malloc`, `obj:/lib/x.so`, `...`).
 */
export interface SuppressionSpec {
  kind: string;
  extra: string[];
  frames: string[];
}

/** One Memcheck (or core) error context, as Valgrind's XML `<error>` describes it. */
export interface ErrorRecord {
  /** `<unique>`: the error's id within its run. */
  unique: number;
  tid?: number;
  threadName?: string;
  /** `<kind>`: InvalidRead, UninitCondition, Leak_DefinitelyLost, … (unknown kinds allowed). */
  kind: string;
  /** `<what>`, or `<xwhat><text>` for leaks. */
  what: string;
  /** `<xwhat><leakedbytes>` / `<leakedblocks>` (leak kinds only). */
  leakedBytes?: number;
  leakedBlocks?: number;
  /** The primary stack. */
  stack: ValgrindFrame[];
  /** Auxiliary lines in document order, each with the stack that followed it. */
  aux: AuxInfo[];
  /** The suppression Valgrind generated (`--gen-suppressions=all`), with mangled names. */
  suppression?: SuppressionSpec;
  /** How many times this context occurred (`<errorcounts>`); 1 when unknown. */
  count?: number;
  /** Protocol 5 file-descriptor errors. */
  fd?: number;
  path?: string;
}

/** Identifies a live run (a debug session) whose findings the client forwards to the server. */
export interface LiveSessionInfo {
  /** The debug session id; findings of one session replace each other by `unique`. */
  id: string;
  name?: string;
  /** The launch configuration's program, args and cwd, used to offer a re-run. */
  program?: string;
  args?: string[];
  cwd?: string;
  /** Guest pid when known: an XML file of the same pid supersedes the live findings. */
  pid?: number;
}

/**
 * Notification `unigrind/findings` (client → server). Records are merged into the session's
 * findings by `unique` (a record sent again, e.g. with a higher `count`, replaces the old one).
 * `reset: true` first drops everything the session sent before; the extension sends it, with no
 * records, when a session starts.
 */
export const FINDINGS_NOTIFICATION = 'unigrind/findings';
export interface FindingsParams {
  session: LiveSessionInfo;
  records: ErrorRecord[];
  reset?: boolean;
}

/**
 * Notification `unigrind/clearFindings` (client → server): forget the findings of one session, or
 * with no `sessionId` every finding (XML files come back when they change on disk).
 */
export const CLEAR_FINDINGS_NOTIFICATION = 'unigrind/clearFindings';
export interface ClearFindingsParams {
  sessionId?: string;
}

/**
 * Request `unigrind/loadXml` (client → server): read a Valgrind XML file wherever it is (also
 * outside the workspace or the `unigrind.xml.include` glob) and keep watching it.
 */
export const LOAD_XML_REQUEST = 'unigrind/loadXml';
export interface LoadXmlParams {
  uri: string;
}
export interface LoadXmlResult {
  /** Error contexts in the file (leaks included). */
  records: number;
  /** How many of them are shown as diagnostics after filtering. */
  shown: number;
}

/**
 * DAP custom event `unigrind.error` (adapter → client): one error context found by the running
 * program, sent when the error manager first reports it (and again when its count changes, if the
 * adapter wishes). Leak records are sent at exit, one event per loss record.
 *
 * An adapter that can only send standard events may instead put the same body in an `output`
 * event's `data` field under the key `unigrindError` (OUTPUT_EVENT_DATA_KEY).
 */
export const DAP_ERROR_EVENT = 'unigrind.error';
export interface DapErrorEventBody {
  record: ErrorRecord;
  /** Guest pid, if known. */
  pid?: number;
}
/** Key in a DAP `output` event's `body.data` under which a `DapErrorEventBody` may travel. */
export const OUTPUT_EVENT_DATA_KEY = 'unigrindError';

/** Server-side command: append a suppression to the workspace's suppression file. */
export const ADD_SUPPRESSION_COMMAND = 'unigrind.addSuppression';
export interface AddSuppressionArgs {
  /** The entry's name line. */
  name: string;
  suppression: SuppressionSpec;
}

/** Client-side command: run the program again with `--track-origins=yes`. */
export const RERUN_TRACK_ORIGINS_COMMAND = 'unigrind.rerunWithTrackOrigins';
export interface RerunArgs {
  program: string;
  args: string[];
  cwd?: string;
  /** Set when the findings came from a debug session: reuse its launch configuration. */
  sessionId?: string;
}

/** Client-side command behind code lenses: show the findings of a function as locations. */
export const SHOW_FINDINGS_COMMAND = 'unigrind.showFindings';
export interface ShowFindingsArgs {
  uri: string;
  /** Where the lens sits (0-based). */
  line: number;
  locations: { uri: string; line: number }[];
}

/** Diagnostic `data` (LSP 3.16): what the code actions need, without asking the server again. */
export interface DiagnosticData {
  findingId: string;
  /** Absent for kinds that have no suppression form (e.g. a fatal signal). */
  suppression?: SuppressionSpec;
  suppressionName?: string;
  /** Present when the error is about an uninitialised value with no recorded origin. */
  rerun?: RerunArgs;
}

/** The settings section the server reads with `workspace/configuration`. */
export const SETTINGS_SECTION = 'unigrind';
