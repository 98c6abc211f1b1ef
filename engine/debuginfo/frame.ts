/** One symbolized frame of a guest stack, in the fields Valgrind's reports and XML carry. */
export interface StackFrame {
  /** Guest instruction address Valgrind would print for this frame. */
  ip: number;
  /** Function name (demangled where possible); absent when no symbol covers ip. */
  fn?: string;
  /** Path of the loaded object that contains ip. */
  obj?: string;
  /** Source directory and file name, as in Valgrind's <dir> and <file>. */
  dir?: string;
  file?: string;
  line?: number;
  /** True for frames produced by expanding inlined calls (no ip of their own). */
  inlined?: boolean;
}
